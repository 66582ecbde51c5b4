package runtoken_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/internal/testenv"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/kfpapitest"
	pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/pluginconfig"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/profile"
	"github.com/kfp-driver-plugin/kfp-driver-plugin/runtoken"
)

const (
	runA = "0b6c6f1e-3f0c-4d6b-9a51-1f7f8f0e2a11"
	runB = "7d1e2c3b-4a5f-4e6d-8c7b-9a0b1c2d3e4f"
)

// TestRunTokensOnRealAPIServer: the plugin's account, with the manifests'
// ClusterRole bound as installs bind it (the profile hook's RoleBinding in
// a profile namespace; overlays/standalone's in the KFP namespace), mints
// run tokens of the workflow's account; a real TokenReview accepts them for
// their run only. Minting for an account outside the rule's resourceNames
// is Forbidden.
func TestRunTokensOnRealAPIServer(t *testing.T) {
	c := testenv.StartClusterWith(t, testenv.Options{SkipDefaultCRDs: true})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var role rbacv1.ClusterRole
	readYAML(t, "../manifests/base/clusterrole.yaml", &role)
	if _, err := c.Client.RbacV1().ClusterRoles().Create(ctx, &role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	t.Run("profile namespace", func(t *testing.T) {
		const ns = "team-a"
		createNamespace(ctx, t, c, ns, "default-editor", "custom-runner")
		children, err := profile.Desired(ns, profile.Settings{ClusterRole: profile.DefaultClusterRole, WorkflowSA: profile.DefaultWorkflowSA},
			pluginconfig.PodMetadata{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, child := range children {
			if child["kind"] == "ServiceAccount" || (child["kind"] == "RoleBinding" && child["metadata"].(map[string]any)["name"] == profile.PluginRoleBinding) {
				createObject(ctx, t, c, child)
			}
		}
		checkMint(ctx, t, c, ns, "default-editor", "custom-runner")
	})
	t.Run("standalone", func(t *testing.T) {
		const ns = "kubeflow"
		createNamespace(ctx, t, c, ns, "pipeline-runner", "custom-runner")
		b, err := os.ReadFile("../manifests/overlays/standalone/plugin-account.yaml")
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(b), "\n---\n") {
			var obj map[string]any
			if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
				t.Fatal(err)
			}
			if obj["kind"] == "ServiceAccount" || (obj["kind"] == "RoleBinding" && obj["roleRef"].(map[string]any)["name"] == role.Name) {
				obj["metadata"].(map[string]any)["namespace"] = ns // kustomize's namespace
				createObject(ctx, t, c, obj)
			}
		}
		checkMint(ctx, t, c, ns, "pipeline-runner", "custom-runner")
	})
}

// checkMint mints as the plugin's account in ns: account's run tokens work
// for their run on an API server doing KFP's TokenReview; other's are
// refused by RBAC.
func checkMint(ctx context.Context, t *testing.T, c *testenv.Cluster, ns, account, other string) {
	t.Helper()
	plugin := pluginClient(ctx, t, c, ns)
	review, err := kfpapitest.TokenReviewAuthenticator(c.RESTConfig, "")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var users []string
	srv := kfpapitest.Start(t, kfpapitest.Options{Authenticate: func(ctx context.Context, token string) (kfpapitest.Principal, error) {
		p, err := review(ctx, token)
		mu.Lock()
		users = append(users, p.User+" run="+p.RunID)
		mu.Unlock()
		return p, err
	}})
	srv.AddRun(ns, &pb.Run{RunId: runA})
	srv.AddRun(ns, &pb.Run{RunId: runB})
	conn, err := grpc.NewClient(srv.Addr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })

	m := runtoken.NewMinter(plugin, ns, account)
	api := kfpapi.New(conn, srv.Addr(), m.Source())
	for _, run := range []string{runA, runB} {
		if _, err := api.GetRun(ctx, run); err != nil {
			t.Fatalf("GetRun(%s) with its minted token: %v", run, err)
		}
	}
	want := "system:serviceaccount:" + ns + ":" + account
	if len(users) != 2 || users[0] != want+" run="+runA || users[1] != want+" run="+runB {
		t.Fatalf("authenticated as %q, want %s bound to each run", users, want)
	}

	// Run A's token on run B: the audience does not match.
	tokA, err := m.Token(ctx, runA)
	if err != nil {
		t.Fatal(err)
	}
	wrong := kfpapi.New(conn, srv.Addr(), func(context.Context, string) (string, error) { return tokA, nil })
	if _, err := wrong.GetRun(ctx, runB); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("run A's token on run B: %v, want Unauthenticated", err)
	}

	_, err = runtoken.NewMinter(plugin, ns, other).Token(ctx, runA)
	if !apierrors.IsForbidden(err) || kube.IsTransient(err) || !strings.Contains(err.Error(), "resourceNames") {
		t.Fatalf("minting for %s: %v, want Forbidden naming the RBAC rule", other, err)
	}
}

// pluginClient is the sidecar's kube client: authenticated with a token of
// the plugin's ServiceAccount, as Argo mounts it.
func pluginClient(ctx context.Context, t *testing.T, c *testenv.Cluster, ns string) *kube.Client {
	t.Helper()
	tr, err := c.Client.CoreV1().ServiceAccounts(ns).CreateToken(ctx, pluginconfig.ServiceAccountName,
		&authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(c.RESTConfig)
	cfg.BearerToken = tr.Status.Token
	k, err := kube.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func createNamespace(ctx context.Context, t *testing.T, c *testenv.Cluster, ns string, accounts ...string) {
	t.Helper()
	if err := c.EnsureNamespace(ctx, ns); err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: a}}
		if _, err := c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// createObject creates a ServiceAccount or RoleBinding given as JSON maps.
func createObject(ctx context.Context, t *testing.T, c *testenv.Cluster, obj map[string]any) {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	ns := obj["metadata"].(map[string]any)["namespace"].(string)
	switch obj["kind"] {
	case "ServiceAccount":
		var sa corev1.ServiceAccount
		if err = json.Unmarshal(b, &sa); err == nil {
			_, err = c.Client.CoreV1().ServiceAccounts(ns).Create(ctx, &sa, metav1.CreateOptions{})
		}
	case "RoleBinding":
		var rb rbacv1.RoleBinding
		if err = json.Unmarshal(b, &rb); err == nil {
			_, err = c.Client.RbacV1().RoleBindings(ns).Create(ctx, &rb, metav1.CreateOptions{})
		}
	}
	if err != nil {
		t.Fatalf("create %s: %v", b, err)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
}
