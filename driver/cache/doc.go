// Package cache is KFP's task cache as the driver uses it: the fingerprint
// of a container task, the lookup of an earlier successful execution with
// that fingerprint through the ml-pipeline TaskService, and the cache entry
// KFP's launcher writes after a successful run.
//
// Reproduced from KFP (backend/src/v2/cacheutils and the driver's cache.go):
//
//   - The fingerprint: KFP's CacheKey (api/v2alpha1 cache_key.proto) with
//     inputArtifactNames (input name -> artifact names, i.e. MLMD IDs),
//     input_parameter_values, outputArtifactsSpec (first artifact per
//     output: name, type, metadata, no URI), outputParametersSpec (name ->
//     ParameterType enum name) and containerSpec (unresolved image, command
//     then args, and the sorted, deduplicated PVC names). It is hashed as
//     hex(SHA-256) of protojson re-encoded by encoding/json; see
//     canonicalJSON. A custom cachingOptions.cacheKey replaces all of it
//     with hex(SHA-256(componentRef.name NUL cacheKey)).
//   - ShouldLookup and ShouldRecord: --cache_disabled, the trigger condition
//     and cachingOptions.enableCache decide the lookup; the launcher records
//     only a successful execution that carries a fingerprint.
//   - The lookup: ListTasksV1 with EQUALS predicates on fingerprint,
//     pipelineName ("pipeline/<name>") and namespace, sort_by "created_at
//     desc", page_size 1; the first task's mlmdExecutionID is the hit.
//   - The entry: CreateTaskV1 with pipelineName "pipeline/<name>",
//     namespace, runId, the decimal MLMD execution ID, created_at (task
//     start) and finished_at in whole seconds, and the fingerprint.
//
// Deviations: Unavailable and DeadlineExceeded from the server come back as
// driver.Transient so the plugin retries the call later, where KFP's driver
// fails the task; the filter is URL-escaped (see package mlpipeline); each
// RPC has a deadline. Newer KFP releases also hash the container's env
// variables into containerSpec; this package follows the design spec and
// does not.
package cache
