package plugin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/driver"
)

// CheckArgs decodes and checks a call's arguments exactly as the handler
// does: DecodeArgs, then the endpoint policy of ep (see applyEndpoints).
func CheckArgs(raw map[string]json.RawMessage, ep driver.Endpoints) (*driver.Request, []string, error) {
	req, unknown, err := DecodeArgs(raw)
	if err != nil {
		return nil, nil, err
	}
	if err := applyEndpoints(raw, ep, &req.Options); err != nil {
		return nil, nil, err
	}
	return req, unknown, nil
}

// applyEndpoints holds a call's endpoint arguments to the admin's
// configuration and then replaces them with it, so the driver and the
// launcher command it renders use the configured services. Templates come
// from whoever may create a Workflow: a template that names another
// service, another TLS setting or a CA path the admin did not allow fails,
// naming the argument. KFP's compiler passes the same in-cluster values to
// every workflow, which pass; an omitted argument means "the default".
func applyEndpoints(raw map[string]json.RawMessage, ep driver.Endpoints, o *driver.Options) error {
	r := &argReader{raw: raw}
	checks := []struct {
		arg  string
		ok   func(string) bool
		want string
	}{
		{"mlmd_server_address", sameService(ep.MLMDHost), ep.MLMDHost},
		{"mlmd_server_port", equalTo(ep.MLMDPort), ep.MLMDPort},
		{"metadata_tls_enabled", sameBool(ep.MetadataTLS), strconv.FormatBool(ep.MetadataTLS)},
		{"ml_pipeline_server_address", sameService(ep.MLPipelineHost), ep.MLPipelineHost},
		{"ml_pipeline_server_port", equalTo(ep.MLPipelinePort), ep.MLPipelinePort},
		{"ml_pipeline_tls_enabled", sameBool(ep.MLPipelineTLS), strconv.FormatBool(ep.MLPipelineTLS)},
	}
	for _, c := range checks {
		v := r.str(c.arg)
		if r.err != nil {
			return r.err
		}
		if v != "" && !c.ok(v) {
			return &ArgError{Arg: c.arg, Err: fmt.Errorf("%q differs from the plugin's configured %q: "+
				"endpoints and TLS are the administrator's settings (flags of `serve`), not the template's", v, c.want)}
		}
	}
	if ca := o.CACertPath; ca != "" && !slices.Contains(ep.LauncherCACertPaths, ca) {
		return &ArgError{Arg: "ca_cert_path", Err: fmt.Errorf("%q is not one of the CA paths the administrator allows "+
			"(--launcher-ca-cert-paths %s)", ca, strings.Join(ep.LauncherCACertPaths, ","))}
	}
	o.MLMDAddress, o.MLMDPort, o.MetadataTLS = ep.MLMDHost, ep.MLMDPort, ep.MetadataTLS
	o.MLPipelineAddress, o.MLPipelinePort, o.MLPipelineTLS = ep.MLPipelineHost, ep.MLPipelinePort, ep.MLPipelineTLS
	return nil
}

func equalTo(want string) func(string) bool {
	return func(v string) bool { return v == want }
}

func sameBool(want bool) func(string) bool {
	return func(v string) bool {
		b, err := strconv.ParseBool(v)
		return err == nil && b == want
	}
}

// sameService accepts the spellings of one Kubernetes service that differ
// only in how much of the cluster domain they carry: "svc", "svc.ns",
// "svc.ns.svc" and "svc.ns.svc.<domain>" all name the configured
// "svc.ns.svc.cluster.local". The template's spelling is never dialled.
func sameService(configured string) func(string) bool {
	want := serviceName(configured)
	short, _, _ := strings.Cut(want, ".")
	return func(v string) bool {
		got := serviceName(v)
		return got == want || (!strings.Contains(got, ".") && got == short)
	}
}

func serviceName(host string) string {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if i := strings.Index(h, ".svc"); i > 0 && (len(h) == i+4 || h[i+4] == '.') {
		return h[:i]
	}
	return h
}
