// Package inputs resolves a task's inputs the way KFP's driver does:
// constants and job placeholders, the parent DAG's inputs, upstream task
// outputs (through nested DAG outputs, if/elif/else oneOf and collected
// ParallelFor outputs), the final status of an upstream task, selectors,
// defaults, optional inputs and type coercion.
//
// Upstream outputs are found by listing the direct children of one DAG
// execution at a time (memoised per call), starting with the task's parent
// DAG and walking down only into the DAG that produced the wanted output.
// KFP instead lists the parent DAG's whole subtree on every call; here the
// cost follows the size of the DAGs on the path, not the size of the run.
// Artifacts of all inputs are fetched in one batch (two round trips).
//
// Errors name the task and the input: `resolving input "x" of task "y": ...`.
package inputs
