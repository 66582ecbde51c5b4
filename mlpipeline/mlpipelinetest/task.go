package mlpipelinetest

import (
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	apipb "github.com/kfp-driver-plugin/kfp-driver-plugin/mlpipeline/proto"
)

// validateTask applies the checks of KFP's TaskServer.CreateTaskV1, so a
// launcher stand-in that passes here also passes against a real server.
func validateTask(t *apipb.Task) error {
	switch {
	case t == nil:
		return invalid("task is missing")
	case t.GetId() != "":
		return invalid("task id must not be set")
	case t.GetPipelineName() == "":
		return invalid("must specify pipelineName")
	case t.GetRunId() == "":
		return invalid("must specify runId")
	case t.GetMlmdExecutionID() == "":
		return invalid("must specify mlmdExecutionID")
	case t.GetFingerprint() == "":
		return invalid("must specify fingerprint")
	case t.GetCreatedAt() == nil:
		return invalid("must specify created_at")
	}
	return checkNamespacedName(t)
}

// checkNamespacedName: a "namespace/<ns>/pipeline/<name>" pipelineName must
// name the task's namespace, if it has one.
func checkNamespacedName(t *apipb.Task) error {
	if !strings.HasPrefix(t.GetPipelineName(), "namespace/") {
		return nil
	}
	parts := strings.SplitN(t.GetPipelineName(), "/", 4)
	if len(parts) != 4 {
		return invalid("pipelineName %q must be namespace/<namespace>/pipeline/<name>", t.GetPipelineName())
	}
	if t.GetNamespace() != "" && parts[1] != t.GetNamespace() {
		return invalid("pipelineName namespace %q differs from task namespace %q", parts[1], t.GetNamespace())
	}
	return nil
}

// storedTask copies t with timestamps cut to whole seconds, what KFP keeps
// in its database and returns on list.
func storedTask(t *apipb.Task) *apipb.Task {
	c := cloneTask(t)
	c.CreatedAt = seconds(c.GetCreatedAt())
	c.FinishedAt = seconds(c.GetFinishedAt())
	return c
}

func seconds(ts *timestamppb.Timestamp) *timestamppb.Timestamp {
	if ts == nil {
		return nil
	}
	return &timestamppb.Timestamp{Seconds: ts.GetSeconds()}
}

func invalid(format string, args ...any) error {
	return status.Errorf(codes.InvalidArgument, format, args...)
}
