package testenv

import (
	"fmt"
	"os"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// The kubeconfig is written by hand: client-go's clientcmd would pull
// dependencies the module does not have, and the format needed is tiny.
type kubeconfig struct {
	APIVersion     string         `json:"apiVersion"`
	Kind           string         `json:"kind"`
	Clusters       []namedCluster `json:"clusters"`
	Users          []namedUser    `json:"users"`
	Contexts       []namedContext `json:"contexts"`
	CurrentContext string         `json:"current-context"`
}

type namedCluster struct {
	Name    string `json:"name"`
	Cluster struct {
		Server                   string `json:"server"`
		CertificateAuthorityData []byte `json:"certificate-authority-data"`
	} `json:"cluster"`
}

type namedUser struct {
	Name string `json:"name"`
	User struct {
		Token string `json:"token"`
	} `json:"user"`
}

type namedContext struct {
	Name    string `json:"name"`
	Context struct {
		Cluster   string `json:"cluster"`
		User      string `json:"user"`
		Namespace string `json:"namespace"`
	} `json:"context"`
}

// writeKubeconfig writes a self-contained kubeconfig (CA inlined) for the
// admin token, usable by kubectl, argo and the controller.
func writeKubeconfig(path, server string, caPEM []byte, token string) error {
	var c namedCluster
	c.Name = "testenv"
	c.Cluster.Server = server
	c.Cluster.CertificateAuthorityData = caPEM // []byte marshals as base64
	var u namedUser
	u.Name = "admin"
	u.User.Token = token
	var x namedContext
	x.Name = "testenv"
	x.Context.Cluster, x.Context.User, x.Context.Namespace = "testenv", "admin", "default"
	cfg := kubeconfig{APIVersion: "v1", Kind: "Config", Clusters: []namedCluster{c},
		Users: []namedUser{u}, Contexts: []namedContext{x}, CurrentContext: "testenv"}
	b, err := yaml.Marshal(cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	return nil
}

func restConfig(server string, caPEM []byte, token string) *rest.Config {
	return &rest.Config{
		Host:            server,
		BearerToken:     token,
		TLSClientConfig: rest.TLSClientConfig{CAData: caPEM},
		// Tests create objects in bursts; the client default (5 qps) is slow.
		QPS:   100,
		Burst: 200,
	}
}
