// Package kubetest is an in-memory kube.Interface for unit tests. It answers
// the way the API server does where the driver can tell the difference:
// apierrors NotFound, AlreadyExists and BadRequest, stored copies with a UID
// and resource version. Fault injection (Fake.Err) stands in for an
// unreachable or failing server.
package kubetest

import (
	"fmt"
	"sort"
	"strconv"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kfp-driver-plugin/kfp-driver-plugin/kube"
)

// The resources the fake stores, as the API server names them in errors.
var (
	configMaps = corev1.Resource("configmaps")
	pvcs       = corev1.Resource("persistentvolumeclaims")
)

// Fake is safe for concurrent use. The zero value is not usable: use New.
type Fake struct {
	// Err, when set, is asked before every call; a non-nil error is
	// returned instead of doing it. verb is get, create or delete; resource
	// as in the API (configmaps, persistentvolumeclaims).
	Err func(verb, resource, namespace, name string) error

	mu         sync.Mutex
	configMaps map[string]*corev1.ConfigMap
	pvcs       map[string]*corev1.PersistentVolumeClaim
	version    int
	calls      []string
}

var _ kube.Interface = (*Fake)(nil)

// New returns an empty fake holding objs (ConfigMaps and PVCs with their
// namespace set).
func New(objs ...any) *Fake {
	f := &Fake{configMaps: map[string]*corev1.ConfigMap{}, pvcs: map[string]*corev1.PersistentVolumeClaim{}}
	for _, o := range objs {
		switch o := o.(type) {
		case *corev1.ConfigMap:
			f.AddConfigMap(o)
		case *corev1.PersistentVolumeClaim:
			f.AddPVC(o)
		default:
			panic(fmt.Sprintf("kubetest.New: unsupported object %T", o))
		}
	}
	return f
}

// AddConfigMap stores a copy of cm in cm.Namespace, replacing any.
func (f *Fake) AddConfigMap(cm *corev1.ConfigMap) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := cm.DeepCopy()
	f.stamp(&c.ObjectMeta.ResourceVersion, &c.ObjectMeta.UID)
	f.configMaps[key(c.Namespace, c.Name)] = c
}

// AddPVC stores a copy of pvc in pvc.Namespace, replacing any.
func (f *Fake) AddPVC(pvc *corev1.PersistentVolumeClaim) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := pvc.DeepCopy()
	f.stamp(&c.ObjectMeta.ResourceVersion, &c.ObjectMeta.UID)
	f.pvcs[key(c.Namespace, c.Name)] = c
}

// PVCs returns copies of the PVCs of namespace, by name.
func (f *Fake) PVCs(namespace string) []corev1.PersistentVolumeClaim {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []corev1.PersistentVolumeClaim
	for _, p := range f.pvcs {
		if p.Namespace == namespace {
			out = append(out, *p.DeepCopy())
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Calls lists the calls made so far, as "verb resource namespace/name".
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func key(namespace, name string) string { return namespace + "/" + name }

// stamp sets what the server sets on a write: a new resource version, and
// a UID on creation.
func (f *Fake) stamp(rv *string, uid *types.UID) {
	f.version++
	*rv = strconv.Itoa(f.version)
	if *uid == "" {
		*uid = types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", f.version))
	}
}

// call records a call and asks Err; the lock is held by the caller.
func (f *Fake) call(verb, resource, namespace, name string) error {
	f.calls = append(f.calls, verb+" "+resource+" "+key(namespace, name))
	if f.Err != nil {
		return f.Err(verb, resource, namespace, name)
	}
	return nil
}
