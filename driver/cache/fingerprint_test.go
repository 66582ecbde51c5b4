package cache

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/kubeflow/pipelines/api/v2alpha1/go/cachekey"
	"github.com/kubeflow/pipelines/api/v2alpha1/go/pipelinespec"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

const modelSchema = "title: kfp.Model\ntype: object\nproperties:\n  framework:\n    type: string\n  framework_version:\n    type: string\n"

// kfpFullKey is the CacheKey of KFP's TestGenerateFingerPrint
// (backend/src/v2/cacheutils/cache_test.go, the revision using image
// "python:3.9"), whose expected fingerprint KFP asserts.
func kfpFullKey() *cachekey.CacheKey {
	return &cachekey.CacheKey{
		InputArtifactNames: map[string]*cachekey.ArtifactNameList{
			"dataset_one": {ArtifactNames: []string{"1"}},
			"dataset_two": {ArtifactNames: []string{"2"}},
		},
		InputParameterValues: map[string]*structpb.Value{
			"message":   structpb.NewStringValue("Some string value"),
			"num_steps": structpb.NewNumberValue(5),
		},
		OutputArtifactsSpec: map[string]*pipelinespec.RuntimeArtifact{
			"model":   outputArtifact("model", instanceSchema(modelSchema), ""),
			"metrics": outputArtifact("metrics", schemaTitle("kfp.Metrics"), ""),
		},
		OutputParametersSpec: map[string]string{"output_parameter_one": "STRING", "output_parameter_two": "INT"},
		ContainerSpec:        &cachekey.ContainerSpec{CmdArgs: []string{"sh", "ec", "test"}, Image: "python:3.9"},
	}
}

func smallKey(image string) *cachekey.CacheKey {
	return &cachekey.CacheKey{
		InputArtifactNames:   map[string]*cachekey.ArtifactNameList{"dataset": {ArtifactNames: []string{"10"}}},
		OutputParametersSpec: map[string]string{"output_parameter": "DOUBLE"},
		ContainerSpec:        &cachekey.ContainerSpec{CmdArgs: []string{"sh", "ec", "run"}, Image: image},
	}
}

func outputArtifact(name string, typ *pipelinespec.ArtifactTypeSchema, uri string) *pipelinespec.RuntimeArtifact {
	return &pipelinespec.RuntimeArtifact{
		Name: name, Type: typ, Uri: uri,
		Metadata: &structpb.Struct{Fields: map[string]*structpb.Value{"name": structpb.NewStringValue(name)}},
	}
}

func instanceSchema(s string) *pipelinespec.ArtifactTypeSchema {
	return &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_InstanceSchema{InstanceSchema: s}}
}

func schemaTitle(s string) *pipelinespec.ArtifactTypeSchema {
	return &pipelinespec.ArtifactTypeSchema{Kind: &pipelinespec.ArtifactTypeSchema_SchemaTitle{SchemaTitle: s}}
}

// These fingerprints were computed by KFP's own GenerateFingerPrint: the
// first two are asserted in KFP's cacheutils tests, the third is the design
// spec's vector (same key as the second but image python:3.11). Matching
// them shows the serialization (protojson -> generic JSON -> encoding/json,
// SHA-256, lower-case hex) is byte-for-byte KFP's.
func TestHashKeyMatchesKFPVectors(t *testing.T) {
	tests := []struct {
		name string
		key  *cachekey.CacheKey
		want string
	}{
		{"kfp full key", kfpFullKey(), "4e8a5d7d70997b0a35429fcd481af8fcd5b9f58ef4391bdb6ad900fd1c63622b"},
		{"kfp small key", smallKey("python:3.9"), "0a4cc1f15cdfad5170e1358518f7128c5278500a670db1b9a3f3d83b93db396e"},
		{"spec vector", smallKey("python:3.11"), "3d9a2a778fa3174c6cfc6e639c507c265b5f21ef6e5b1dd70b236462cc6da464"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := HashKey(tt.key, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("fingerprint = %s, want %s", got, tt.want)
			}
		})
	}
}

// The design spec gives the exact bytes KFP hashes for its vector.
func TestCanonicalJSONSpecVector(t *testing.T) {
	const want = `{"containerSpec":{"cmdArgs":["sh","ec","run"],"image":"python:3.11"},"inputArtifactNames":{"dataset":{"artifactNames":["10"]}},"outputParametersSpec":{"output_parameter":"DOUBLE"}}`
	got, err := canonicalJSON(smallKey("python:3.11"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("canonical JSON\n got %s\nwant %s", got, want)
	}
}

// Encoding rules that a hand-rolled serializer would get wrong: HTML
// escaping, Go's float64 formatting (1e+21, 0.1), key order, and pvcNames
// sorted, deduplicated and placed inside containerSpec. The expected
// fingerprint is sha256sum of the literal, computed outside Go.
func TestCanonicalJSONEncodingRules(t *testing.T) {
	const wantJSON = `{"containerSpec":{"cmdArgs":["python","-c","print(1)"],"image":"python:3.11","pvcNames":["data","kfp-run-1-kfp-workspace"]},"inputParameterValues":{"big":1e+21,"ratio":0.1,"text":"\u003ca\u0026b\u003e"}}`
	const wantFP = "66dfb4e11243d0f01b777dd0207bbc0903d7dc0bb126bbb5a13b10ab8e29a5d2"
	key := &cachekey.CacheKey{
		InputParameterValues: map[string]*structpb.Value{
			"text":  structpb.NewStringValue("<a&b>"),
			"ratio": structpb.NewNumberValue(0.1),
			"big":   structpb.NewNumberValue(1e21),
		},
		ContainerSpec: &cachekey.ContainerSpec{Image: "python:3.11", CmdArgs: []string{"python", "-c", "print(1)"}},
	}
	pvcs := []string{"kfp-run-1-kfp-workspace", "data", "data"}
	got, err := canonicalJSON(key, pvcs)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != wantJSON {
		t.Errorf("canonical JSON\n got %s\nwant %s", got, wantJSON)
	}
	sum := sha256.Sum256([]byte(wantJSON))
	if hex.EncodeToString(sum[:]) != wantFP {
		t.Fatal("test literal and expected fingerprint disagree")
	}
	if fp, _ := HashKey(key, pvcs); fp != wantFP {
		t.Errorf("fingerprint = %s, want %s", fp, wantFP)
	}
}

// kfpKeyInput is the input of KFP's TestGenerateCacheKey, with URIs and
// output files that must not reach the key.
func kfpKeyInput() KeyInput {
	return KeyInput{
		Inputs: &pipelinespec.ExecutorInput_Inputs{
			ParameterValues: map[string]*structpb.Value{
				"message":   structpb.NewStringValue("Some string value"),
				"num_steps": structpb.NewNumberValue(5),
			},
			Artifacts: map[string]*pipelinespec.ArtifactList{
				"dataset_one": {Artifacts: []*pipelinespec.RuntimeArtifact{{Name: "1", Uri: "gs://some-bucket/dataset-one", Metadata: &structpb.Struct{}}}},
				"dataset_two": {Artifacts: []*pipelinespec.RuntimeArtifact{{Name: "2", Uri: "gs://some-bucket/dataset-two", Metadata: &structpb.Struct{}}}},
			},
		},
		Outputs: &pipelinespec.ExecutorInput_Outputs{
			Parameters: map[string]*pipelinespec.ExecutorInput_OutputParameter{
				"output_parameter_one": {OutputFile: "/tmp/outputs/output_parameter_one/data"},
				"output_parameter_two": {OutputFile: "/tmp/outputs/output_parameter_two/data"},
			},
			Artifacts: map[string]*pipelinespec.ArtifactList{
				"model":   {Artifacts: []*pipelinespec.RuntimeArtifact{outputArtifact("model", instanceSchema(modelSchema), "gs://my-bucket/some-prefix/pipeline/task/model")}},
				"metrics": {Artifacts: []*pipelinespec.RuntimeArtifact{outputArtifact("metrics", schemaTitle("kfp.Metrics"), "gs://my-bucket/some-prefix/pipeline/task/metrics")}},
			},
			OutputFile: "/tmp/kfp_outputs/output_metadata.json",
		},
		Component: &pipelinespec.ComponentSpec{OutputDefinitions: &pipelinespec.ComponentOutputsSpec{
			Parameters: map[string]*pipelinespec.ComponentOutputsSpec_ParameterSpec{
				"output_parameter_one": {ParameterType: pipelinespec.ParameterType_STRING},
				"output_parameter_two": {ParameterType: pipelinespec.ParameterType_NUMBER_INTEGER},
			},
		}},
		Container: &pipelinespec.PipelineDeploymentConfig_PipelineContainerSpec{
			Image: "python:3.9", Command: []string{"sh", "ec"}, Args: []string{"test"},
		},
	}
}

// KFP's TestGenerateCacheKey input must build kfpFullKey. KFP's test feeds
// the type names "STRING" and "INT" directly; from a real component the
// integer type is named NUMBER_INTEGER, the only difference. With "INT" put
// back, the key hashes to KFP's asserted fingerprint.
func TestBuildKeyFromExecutorInput(t *testing.T) {
	got, err := BuildKey(kfpKeyInput())
	if err != nil {
		t.Fatal(err)
	}
	want := kfpFullKey()
	want.OutputParametersSpec["output_parameter_two"] = "NUMBER_INTEGER"
	if !proto.Equal(got, want) {
		t.Fatalf("key = %v\nwant %v", got, want)
	}
	got.OutputParametersSpec["output_parameter_two"] = "INT"
	if fp, _ := HashKey(got, nil); fp != "4e8a5d7d70997b0a35429fcd481af8fcd5b9f58ef4391bdb6ad900fd1c63622b" {
		t.Errorf("fingerprint = %s", fp)
	}
}

func TestFingerprintIgnoresURIsAndPVCOrder(t *testing.T) {
	a := kfpKeyInput()
	a.PVCNames = []string{"b", "a"}
	b := kfpKeyInput()
	b.PVCNames = []string{"a", "b", "a"}
	b.Outputs.Artifacts["model"].Artifacts[0].Uri = "gs://elsewhere/other-uuid/model"
	fa, errA := Fingerprint(a)
	fb, errB := Fingerprint(b)
	if errA != nil || errB != nil {
		t.Fatal(errA, errB)
	}
	if fa != fb {
		t.Errorf("fingerprints differ: %s vs %s", fa, fb)
	}
}

func TestFingerprintChangesWithEachField(t *testing.T) {
	base, _ := Fingerprint(kfpKeyInput())
	changes := map[string]func(*KeyInput){
		"image":           func(in *KeyInput) { in.Container.Image = "python:3.10" },
		"args":            func(in *KeyInput) { in.Container.Args = []string{"other"} },
		"input parameter": func(in *KeyInput) { in.Inputs.ParameterValues["num_steps"] = structpb.NewNumberValue(6) },
		"input artifact":  func(in *KeyInput) { in.Inputs.Artifacts["dataset_one"].Artifacts[0].Name = "7" },
		"output metadata": func(in *KeyInput) { in.Outputs.Artifacts["model"].Artifacts[0].Metadata = nil },
		"pvc":             func(in *KeyInput) { in.PVCNames = []string{"data"} },
		"empty artifact list": func(in *KeyInput) {
			in.Inputs.Artifacts["extra"] = &pipelinespec.ArtifactList{}
		},
	}
	for name, change := range changes {
		t.Run(name, func(t *testing.T) {
			in := kfpKeyInput()
			change(&in)
			got, err := Fingerprint(in)
			if err != nil {
				t.Fatal(err)
			}
			if got == base {
				t.Error("fingerprint did not change")
			}
		})
	}
}

func TestBuildKeyRejectsUndeclaredOutputParameter(t *testing.T) {
	in := kfpKeyInput()
	delete(in.Component.OutputDefinitions.Parameters, "output_parameter_one")
	if _, err := BuildKey(in); err == nil {
		t.Fatal("want error for an output parameter missing from the component")
	}
}

// Empty inputs still hash: KFP always sets containerSpec.
func TestFingerprintOfEmptyTask(t *testing.T) {
	got, err := canonicalJSON(mustKey(t, KeyInput{}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"containerSpec":{}}` {
		t.Errorf("canonical JSON = %s", got)
	}
}

func mustKey(t *testing.T, in KeyInput) *cachekey.CacheKey {
	t.Helper()
	k, err := BuildKey(in)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Vectors from the design spec (and sha256sum of the raw bytes).
func TestCustomFingerprint(t *testing.T) {
	if got := CustomFingerprint("comp-foo", "my-key"); got != "9c3d2833f87a8fb083a1db1b44b93aa2778cc66e94ad67d4d02d5e36f1d44a72" {
		t.Errorf("scoped = %s", got)
	}
	if got := CustomFingerprint("", "my-key"); got != "5e78863ed1ffb9fc66b1d61634b126bf8eb20267e7996297eeeb9b19c8c0f732" {
		t.Errorf("unscoped = %s", got)
	}
	in := kfpKeyInput()
	in.CustomKey, in.ComponentName = "my-key", "comp-foo"
	if got, _ := Fingerprint(in); got != CustomFingerprint("comp-foo", "my-key") {
		t.Errorf("Fingerprint with custom key = %s", got)
	}
}
