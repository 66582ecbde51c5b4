package e2e

import (
	"context"
	"errors"
	"fmt"

	wfv1 "github.com/argoproj/argo-workflows/v3/pkg/apis/workflow/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
)

// watchWorkflow waits until done says so of workflow ns/name and returns
// that version. It watches rather than polls: a KFP workflow's status is
// hundreds of kilobytes, and six cases polling it ten times a second kept
// the API server busier than the pods under test. done may return a
// permanent error to stop waiting.
func (s *Stack) watchWorkflow(ctx context.Context, ns, name, what string,
	done func(*wfv1.Workflow) (bool, error)) (*wfv1.Workflow, error) {
	client := s.Workflows.ArgoprojV1alpha1().Workflows(ns)
	for {
		wf, err := client.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", what, err)
		}
		if ok, err := done(wf); ok || err != nil {
			return wf, wrapWait(what, err)
		}
		w, err := client.Watch(ctx, metav1.ListOptions{
			FieldSelector:   fields.OneTermEqualSelector("metadata.name", name).String(),
			ResourceVersion: wf.ResourceVersion,
		})
		if err != nil {
			return nil, fmt.Errorf("waiting for %s: %w", what, err)
		}
		wf, err = untilDone(ctx, w, done)
		w.Stop()
		if wf != nil || err != nil {
			return wf, wrapWait(what, err)
		}
		// The watch ended (the server closes watches now and then): get
		// the current version and watch again.
	}
}

// untilDone reads w until done holds (the workflow), done or ctx fails
// (an error), or w ends (nil, nil).
func untilDone(ctx context.Context, w watch.Interface, done func(*wfv1.Workflow) (bool, error)) (*wfv1.Workflow, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case ev, open := <-w.ResultChan():
			if !open {
				return nil, nil
			}
			wf, ok := ev.Object.(*wfv1.Workflow)
			if !ok || (ev.Type != watch.Modified && ev.Type != watch.Added) {
				continue
			}
			if ok, err := done(wf); ok || err != nil {
				return wf, err
			}
		}
	}
}

func wrapWait(what string, err error) error {
	if err == nil {
		return nil
	}
	var p permanent
	if errors.As(err, &p) {
		err = p.error
	}
	return fmt.Errorf("waiting for %s: %w", what, err)
}
