package pipelineroot

import (
	"fmt"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Session is the store_session_info the launcher opens the bucket with.
type Session struct {
	Provider string            `json:"Provider"`
	Params   map[string]string `json:"Params"`
}

// providers is the ConfigMap's providers document.
type providers struct {
	Minio *provider `json:"minio"`
	S3    *provider `json:"s3"`
	GS    *provider `json:"gs"`
}

type provider struct {
	Default   *endpoint  `json:"default"`
	Overrides []override `json:"Overrides"` // capital O, as KFP reads it
}

type endpoint struct {
	Endpoint       string       `json:"endpoint"`
	Region         string       `json:"region"`
	DisableSSL     *bool        `json:"disableSSL"`
	ForcePathStyle *bool        `json:"forcePathStyle"`
	MaxRetries     *int         `json:"maxRetries"`
	Credentials    *credentials `json:"credentials"`
}

type override struct {
	endpoint
	BucketName string `json:"bucketName"`
	KeyPrefix  string `json:"keyPrefix"`
}

type credentials struct {
	FromEnv   bool `json:"fromEnv"`
	SecretRef *struct {
		SecretName   string `json:"secretName"`
		AccessKeyKey string `json:"accessKeyKey"`
		SecretKeyKey string `json:"secretKeyKey"`
		TokenKey     string `json:"tokenKey"`
	} `json:"secretRef"`
}

func sessionInfo(root, providersYAML string) (Session, error) {
	b, err := parseRoot(root)
	if err != nil {
		return Session{}, err
	}
	var ps providers
	if err := yaml.Unmarshal([]byte(providersYAML), &ps); err != nil {
		return Session{}, fmt.Errorf("kfp-launcher providers: %w", err)
	}
	var p *provider
	switch b.scheme {
	case "minio":
		p = ps.Minio
	case "s3":
		p = ps.S3
	case "gs":
		p = ps.GS
	default:
		return Session{}, fmt.Errorf("unsupported scheme %q (want minio, s3 or gs)", b.scheme)
	}
	fromEnv := Session{Provider: b.scheme, Params: map[string]string{"fromEnv": "true"}}
	switch {
	case b.query != "":
		return fromEnv, nil
	case p == nil && b.scheme == "minio":
		return minioDefault(), nil
	case p == nil:
		return fromEnv, nil
	}
	return p.session(b)
}

func minioDefault() Session {
	return Session{Provider: "minio", Params: map[string]string{
		"region": "minio", "endpoint": "seaweedfs.kubeflow:9000", "disableSSL": "true",
		"fromEnv": "false", "maxRetries": "5", "secretName": "mlpipeline-minio-artifact",
		"accessKeyKey": "accesskey", "secretKeyKey": "secretkey",
	}}
}

func (p *provider) session(b bucket) (Session, error) {
	if p.Default == nil || p.Default.Credentials == nil {
		return Session{}, fmt.Errorf("%s provider config has no default credentials", b.scheme)
	}
	params := map[string]string{}
	p.Default.apply(b.scheme, params, true)
	for _, o := range p.Overrides {
		if o.BucketName == b.name && strings.HasPrefix(b.prefix, o.KeyPrefix) {
			if o.Credentials == nil {
				return Session{}, fmt.Errorf("%s override for bucket %q has no credentials", b.scheme, o.BucketName)
			}
			o.endpoint.apply(b.scheme, params, false)
			break
		}
	}
	return Session{Provider: b.scheme, Params: params}, nil
}

// apply writes an endpoint's settings; defaults fill what the default
// section leaves out, overrides only replace what they set.
func (e endpoint) apply(scheme string, params map[string]string, isDefault bool) {
	set := func(k, v string) {
		if v != "" || isDefault {
			params[k] = v
		}
	}
	if scheme != "gs" {
		set("endpoint", e.Endpoint)
		set("region", e.Region)
		set("disableSSL", boolOr(e.DisableSSL, false, isDefault))
		set("forcePathStyle", boolOr(e.ForcePathStyle, true, isDefault))
		if e.MaxRetries != nil {
			params["maxRetries"] = strconv.Itoa(*e.MaxRetries)
		} else if isDefault {
			params["maxRetries"] = "5"
		}
	}
	c := e.Credentials
	params["fromEnv"] = strconv.FormatBool(c.FromEnv)
	for _, k := range []string{"secretName", "accessKeyKey", "secretKeyKey", "tokenKey"} {
		delete(params, k)
	}
	if c.FromEnv || c.SecretRef == nil {
		return
	}
	if scheme == "gs" {
		params["secretName"], params["tokenKey"] = c.SecretRef.SecretName, c.SecretRef.TokenKey
		return
	}
	params["secretName"] = c.SecretRef.SecretName
	params["accessKeyKey"], params["secretKeyKey"] = c.SecretRef.AccessKeyKey, c.SecretRef.SecretKeyKey
}

func boolOr(b *bool, def bool, useDefault bool) string {
	if b != nil {
		return strconv.FormatBool(*b)
	}
	if useDefault {
		return strconv.FormatBool(def)
	}
	return ""
}
