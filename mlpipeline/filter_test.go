package mlpipeline_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline"
	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

func TestFilterRoundTrip(t *testing.T) {
	f := &apipb.Filter{Predicates: []*apipb.Predicate{{
		Op: apipb.Predicate_EQUALS, Key: "pipelineName",
		Value: &apipb.Predicate_StringValue{StringValue: "pipeline/a+b %zz c"},
	}}}
	enc, err := mlpipeline.EncodeFilter(f)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mlpipeline.DecodeFilter(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(got, f) {
		t.Errorf("decoded %v, want %v", got, f)
	}
}

// KFP's driver sends plain protojson; the server side must read it too.
func TestDecodeFilterKFPForm(t *testing.T) {
	const kfp = `{"predicates":[{"op":"EQUALS","key":"fingerprint","stringValue":"abc"},{"op":"EQUALS","key":"namespace","stringValue":"ns"}]}`
	f, err := mlpipeline.DecodeFilter(kfp)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.GetPredicates()) != 2 || f.GetPredicates()[0].GetStringValue() != "abc" {
		t.Errorf("decoded %v", f)
	}
}

func TestDecodeFilterErrors(t *testing.T) {
	for _, s := range []string{"%zz", `{"predicates":[{"op":"NOPE"}]}`, `{"unknown":1}`, "not json"} {
		if _, err := mlpipeline.DecodeFilter(s); err == nil {
			t.Errorf("DecodeFilter(%q) succeeded", s)
		}
	}
	if f, err := mlpipeline.DecodeFilter(""); f != nil || err != nil {
		t.Errorf("empty filter = %v, %v", f, err)
	}
}
