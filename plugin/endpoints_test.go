package plugin

import (
	"strings"
	"testing"
)

// TestTemplateCannotChooseEndpointsOrCA (issue 12, defects 1 and 2): the
// endpoint, TLS and CA arguments must agree with the admin's configuration;
// others fail naming the argument, before the driver runs. The answer for a
// CA path does not depend on the file (no oracle for its existence).
func TestTemplateCannotChooseEndpointsOrCA(t *testing.T) {
	refused := []struct{ arg, value string }{
		{"mlmd_server_address", "10.0.0.7"},
		{"mlmd_server_address", "metadata-grpc-service.other-ns.svc.cluster.local"},
		{"mlmd_server_port", "9090"},
		{"metadata_tls_enabled", "true"},
		{"ml_pipeline_server_address", "kubernetes.default.svc"},
		{"ml_pipeline_server_port", "1"},
		{"ml_pipeline_tls_enabled", "true"},
		{"ca_cert_path", "/dev/zero"},
		{"ca_cert_path", "/etc"},
		{"ca_cert_path", "/nonexistent/ca.crt"},
		{"ca_cert_path", "/var/run/argo/token"},
	}
	for _, tc := range refused {
		d := &countingDriver{}
		s := newTestServer(t, d)
		_, reply, raw := post(t, s, testToken, driverPluginBody(with(validArgs(), tc.arg, tc.value)))
		if reply.Node == nil || reply.Node.Phase != PhaseFailed {
			t.Fatalf("%s=%q: want Failed, got %s", tc.arg, tc.value, raw)
		}
		msg := reply.Node.Message
		if !strings.HasPrefix(msg, `argument "`+tc.arg+`": `) {
			t.Errorf("%s=%q: message does not name the argument: %q", tc.arg, tc.value, msg)
		}
		for _, oracle := range []string{"no such file", "is a directory", "PEM", "permission denied"} {
			if strings.Contains(msg, oracle) {
				t.Errorf("%s=%q: message reveals the file system (%q): %q", tc.arg, tc.value, oracle, msg)
			}
		}
		if d.calls.Load() != 0 {
			t.Errorf("%s=%q: the driver ran", tc.arg, tc.value)
		}
	}
}

// TestCompiledEndpointSpellingsPass: the values KFP's compiler emits (and
// the shorter spellings of the same services) pass, and the driver gets the
// configured values, with the allowed launcher CA path.
func TestCompiledEndpointSpellingsPass(t *testing.T) {
	accepted := []struct{ arg, value string }{
		{"mlmd_server_address", "metadata-grpc-service"},
		{"mlmd_server_address", "metadata-grpc-service.kubeflow"},
		{"mlmd_server_address", "metadata-grpc-service.kubeflow.svc"},
		{"mlmd_server_address", "metadata-grpc-service.kubeflow.svc.cluster.local"},
		{"ml_pipeline_server_address", "ml-pipeline.kubeflow"},
		{"metadata_tls_enabled", "false"},
		{"ca_cert_path", ""},
		{"ca_cert_path", "/kfp/certs/ca.crt"},
	}
	for _, tc := range accepted {
		d := &countingDriver{}
		s := newTestServer(t, d)
		_, reply, raw := post(t, s, testToken, driverPluginBody(with(validArgs(), tc.arg, tc.value)))
		if reply.Node == nil || reply.Node.Phase != PhaseSucceeded {
			t.Fatalf("%s=%q: want Succeeded, got %s", tc.arg, tc.value, raw)
		}
		o := d.last.Load().Options
		if o.MLMDAddress != "metadata-grpc-service.kubeflow.svc.cluster.local" || o.MLPipelineAddress != "ml-pipeline.kubeflow.svc.cluster.local" {
			t.Errorf("%s=%q: driver options carry %q / %q, want the configured services", tc.arg, tc.value, o.MLMDAddress, o.MLPipelineAddress)
		}
		if tc.arg == "ca_cert_path" && o.CACertPath != tc.value {
			t.Errorf("launcher CA path %q, want %q", o.CACertPath, tc.value)
		}
	}
}

func TestReadSmallFileIsBounded(t *testing.T) {
	if _, err := ReadSmallFile("/dev/zero", 1024); err == nil || !strings.Contains(err.Error(), "larger than 1024 bytes") {
		t.Fatalf("reading /dev/zero: got %v, want a size error", err)
	}
}

// TestPathEscapingNamesRefused (issue 12, defect 6): names that become
// pipeline-root path components may not climb out of it.
func TestPathEscapingNamesRefused(t *testing.T) {
	for _, tc := range []struct{ arg, value string }{
		{"pipeline_name", "../../../../evil"},
		{"pipeline_name", ".."},
		{"pipeline_name", "a/./b"},
		{"run_id", "../other-run"},
		{"task_name", "x/../../y"},
		{"task_name", `..\..\y`},
		{"pipeline_name", "line\nbreak"},
		{"component", `{"executorLabel":"e","outputDefinitions":{"artifacts":{"../../m":{"artifactType":{"schemaTitle":"system.Model"}}}}}`},
	} {
		d := &countingDriver{}
		s := newTestServer(t, d)
		_, reply, raw := post(t, s, testToken, driverPluginBody(with(validArgs(), tc.arg, tc.value)))
		if reply.Node == nil || reply.Node.Phase != PhaseFailed || !strings.HasPrefix(reply.Node.Message, `argument "`+tc.arg+`": `) ||
			!strings.Contains(reply.Node.Message, "pipeline root") {
			t.Errorf("%s=%q: want Failed naming the argument and the pipeline root, got %s", tc.arg, tc.value, raw)
		}
		if d.calls.Load() != 0 {
			t.Errorf("%s=%q: the driver ran", tc.arg, tc.value)
		}
	}
	// Ordinary names with dots and slashes pass.
	for _, v := range []string{"my.pipeline", "team/pipeline-v1.2", "..hidden"} {
		s := newTestServer(t, &countingDriver{})
		if _, reply, raw := post(t, s, testToken, driverPluginBody(with(validArgs(), "pipeline_name", v))); reply.Node.Phase != PhaseSucceeded {
			t.Errorf("pipeline_name %q refused: %s", v, raw)
		}
	}
}
