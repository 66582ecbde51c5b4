package kfpapitest

import (
	"context"
	"fmt"
	"slices"

	authv1 "k8s.io/api/authentication/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/rest"
)

// DefaultAudience is KFP's token review audience; run-scoped tokens carry
// DefaultAudience + "/runs/<run id>".
const DefaultAudience = "pipelines.kubeflow.org"

// RunAudience is the audience of a token bound to one run.
func RunAudience(base, runID string) string { return base + "/runs/" + runID }

// TokenReviewAuthenticator authenticates tokens with a Kubernetes
// TokenReview (authentication.k8s.io/v1) against the API server cfg points
// at, as KFP's API server does: the review asks for the base audience and,
// when the call targets a run, that run's audience too; a token that
// matches only the run audience yields a run-bound Principal. An empty base
// means DefaultAudience. cfg needs the right to create tokenreviews.
func TokenReviewAuthenticator(cfg *rest.Config, base string) (Authenticator, error) {
	if base == "" {
		base = DefaultAudience
	}
	scheme := runtime.NewScheme()
	if err := authv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c := rest.CopyConfig(cfg)
	c.APIPath = "/apis"
	c.GroupVersion = &authv1.SchemeGroupVersion
	c.NegotiatedSerializer = serializer.NewCodecFactory(scheme).WithoutConversion()
	rc, err := rest.RESTClientFor(c)
	if err != nil {
		return nil, fmt.Errorf("token review client: %w", err)
	}
	return func(ctx context.Context, token string) (Principal, error) {
		audiences := []string{base}
		runID := RequestedRunID(ctx)
		if runID != "" {
			audiences = append(audiences, RunAudience(base, runID))
		}
		review := &authv1.TokenReview{Spec: authv1.TokenReviewSpec{Token: token, Audiences: audiences}}
		var out authv1.TokenReview
		if err := rc.Post().Resource("tokenreviews").Body(review).Do(ctx).Into(&out); err != nil {
			return Principal{}, fmt.Errorf("token review: %w", err)
		}
		if !out.Status.Authenticated {
			return Principal{}, fmt.Errorf("token not authenticated: %s", out.Status.Error)
		}
		p := Principal{User: out.Status.User.Username}
		switch {
		case slices.Contains(out.Status.Audiences, base):
		case runID != "" && slices.Contains(out.Status.Audiences, RunAudience(base, runID)):
			p.RunID = runID
		default:
			return Principal{}, fmt.Errorf("token audiences %v include none of %v", out.Status.Audiences, audiences)
		}
		return p, nil
	}, nil
}
