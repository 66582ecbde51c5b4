package mlpipeline

import (
	"fmt"
	"net/url"

	"google.golang.org/protobuf/encoding/protojson"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// EncodeFilter renders f for ListTasksRequest.filter: protojson (proto
// enum names, camelCase keys such as "stringValue"), then URL query
// escaping, which the server undoes first.
func EncodeFilter(f *apipb.Filter) (string, error) {
	b, err := protojson.Marshal(f)
	if err != nil {
		return "", fmt.Errorf("encoding task filter: %w", err)
	}
	return url.QueryEscape(string(b)), nil
}

// DecodeFilter parses ListTasksRequest.filter the way KFP's server does: URL
// query unescaping, then strict proto JSON (unknown fields are errors). An
// empty string is no filter and yields nil.
func DecodeFilter(s string) (*apipb.Filter, error) {
	if s == "" {
		return nil, nil
	}
	raw, err := url.QueryUnescape(s)
	if err != nil {
		return nil, fmt.Errorf("unescaping task filter %q: %w", s, err)
	}
	f := &apipb.Filter{}
	if err := protojson.Unmarshal([]byte(raw), f); err != nil {
		return nil, fmt.Errorf("parsing task filter %q: %w", raw, err)
	}
	return f, nil
}
