// Package mlmd is the driver's client of ML Metadata (MLMD): one gRPC
// connection per address, shared by every call (Pool); per-RPC deadlines;
// retries with backoff on codes.Unavailable only; and the handful of typed
// operations the KFP driver needs, in as few round trips as possible.
//
// # Records and names
//
// Types, contexts and custom properties follow KFP's conventions exactly
// (system.Pipeline / system.PipelineRun contexts, system.DAGExecution /
// system.ContainerExecution executions, the property names in props.go), so
// KFP's launcher, UI and cache read what this driver writes.
//
// Execution names differ from KFP on purpose. KFP names only the root DAG
// execution ("run/<run_id>") and leaves every other execution unnamed, so an
// Argo retry of a DAG or CONTAINER driver creates a duplicate. Here every
// driver execution gets a deterministic name (ExecutionName):
//
//	run/<run_id>                                          root DAG (KFP's name)
//	run/<run_id>/dag/<parent_dag_id>/task/<task_name>     DAG and CONTAINER tasks
//	.../task/<task_name>/iteration/<i>                     ParallelFor iterations
//
// MLMD keeps (type, name) unique, so a repeated call's PutExecution fails
// with ALREADY_EXISTS and the driver reads the existing execution by name
// instead of writing a second one. KFP's UI ignores the names of non-root
// executions (it keys tasks by the task_name property), so the names are
// invisible to users. Names longer than MLMD's column allows are shortened
// to a hash that keeps them unique.
//
// # Caching in memory
//
// Only facts MLMD never changes are cached per Client: type IDs, a run's
// two contexts (their properties are written once, at creation), and the
// creation-time fields of parent DAG executions (ParentDAG). Anything whose
// state or outputs matter (producers, oneOf branches, cache sources) is
// always read fresh, because the launcher updates it.
package mlmd
