// Package mlpipelinetest is an in-memory TaskService on the real wire shape
// (gRPC path /api.TaskService/..., KFP's field numbers), for tests of the
// driver's cache lookup and of the launcher stand-in's cache entries.
//
// CreateTaskV1 validates a task the way KFP's API server does (no id; a
// pipelineName, runId, mlmdExecutionID, fingerprint and created_at; a
// "namespace/<ns>/pipeline/<name>" pipelineName must agree with namespace),
// assigns an id, and keeps timestamps at whole seconds because KFP stores
// Unix seconds.
//
// ListTasksV1 implements exactly what KFP's cache lookup sends, and answers
// INVALID_ARGUMENT to anything else:
//   - filter: empty, or predicates that are all EQUALS with a stringValue on
//     "fingerprint", "pipelineName" (or its v2beta1 alias "pipeline_name")
//     or "namespace", ANDed; the string is URL-unescaped first, as KFP does;
//   - sort_by: "", "created_at", "created_at asc" or "created_at desc"
//     (empty means ascending, KFP's default); ties go by insertion order in
//     the same direction, where KFP breaks them by task UUID;
//   - page_size: 0 means 20, more than 200 means 200, negative is rejected;
//   - no page_token and no resource_reference_key. next_page_token is
//     always empty; total_size counts every match.
package mlpipelinetest
