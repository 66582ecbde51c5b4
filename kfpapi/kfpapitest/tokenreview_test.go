package kfpapitest_test

import (
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"google.golang.org/grpc/codes"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
)

// TestTokenReviewOnRealAPIServer authenticates projected-style service
// account tokens with a real kube-apiserver's TokenReview: a token for the
// run audience may read that run only; a token for an unrelated audience
// is refused.
func TestTokenReviewOnRealAPIServer(t *testing.T) {
	k := testenv.StartClusterWith(t, testenv.Options{SkipDefaultCRDs: true})
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "pipeline-runner", Namespace: "default"}}
	if _, err := k.Client.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	token := func(audience string) string {
		tr, err := k.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, sa.Name,
			&authnv1.TokenRequest{Spec: authnv1.TokenRequestSpec{Audiences: []string{audience}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	auth, err := kfpapitest.TokenReviewAuthenticator(k.RESTConfig, "")
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, kfpapitest.Options{Authenticate: auth})
	c.srv.AddRun("default", &pb.Run{RunId: "run-1"})
	c.srv.AddRun("default", &pb.Run{RunId: "run-2"})

	runToken := token(kfpapitest.RunAudience(kfpapitest.DefaultAudience, "run-1"))
	if _, err := c.run.GetRun(bearerCtx(runToken), &pb.GetRunRequest{RunId: "run-1"}); err != nil {
		t.Errorf("run token on its run: %v", err)
	}
	_, err = c.run.GetRun(bearerCtx(runToken), &pb.GetRunRequest{RunId: "run-2"})
	wantCode(t, "run token on another run", err, codes.Unauthenticated)
	if _, err := c.run.GetRun(bearerCtx(token(kfpapitest.DefaultAudience)), &pb.GetRunRequest{RunId: "run-2"}); err != nil {
		t.Errorf("base-audience token: %v", err)
	}
	_, err = c.run.GetRun(bearerCtx(token("https://kubernetes.default.svc.cluster.local")), &pb.GetRunRequest{RunId: "run-1"})
	wantCode(t, "token for another audience", err, codes.Unauthenticated)
}
