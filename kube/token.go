package kube

import (
	"context"
	"errors"
	"fmt"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
)

// Token is a bound service-account token (TokenRequest API).
type Token struct {
	Value  string
	Expiry time.Time
}

// TokenCreator mints service-account tokens. It is apart from Interface:
// only the sidecar's run-token source needs it.
type TokenCreator interface {
	// CreateToken asks for a token of namespace/serviceAccount valid for
	// audience only, expiring after expiration (the API server may shorten
	// it; Token.Expiry is what it granted).
	CreateToken(ctx context.Context, namespace, serviceAccount, audience string, expiration time.Duration) (Token, error)
}

var _ TokenCreator = (*Client)(nil)

// CreateToken implements TokenCreator: POST
// /api/v1/namespaces/NS/serviceaccounts/SA/token. Errors name the account
// and wrap the server's (apierrors and IsTransient see through them).
func (c *Client) CreateToken(ctx context.Context, namespace, serviceAccount, audience string, expiration time.Duration) (Token, error) {
	secs := int64(expiration / time.Second)
	req := &authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{audience}, ExpirationSeconds: &secs}}
	out := &authnv1.TokenRequest{}
	err := c.rest.Post().Namespace(namespace).Resource("serviceaccounts").Name(serviceAccount).SubResource("token").
		Body(req).Do(ctx).Into(out)
	if err != nil {
		return Token{}, fmt.Errorf("token request for service account %s/%s: %w", namespace, serviceAccount, err)
	}
	if out.Status.Token == "" || out.Status.ExpirationTimestamp.IsZero() {
		return Token{}, fmt.Errorf("token request for service account %s/%s: %w", namespace, serviceAccount, errEmptyToken)
	}
	return Token{Value: out.Status.Token, Expiry: out.Status.ExpirationTimestamp.Time}, nil
}

var errEmptyToken = errors.New("the API server answered without a token or expiry")
