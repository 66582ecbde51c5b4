// Package kfpapitest is an in-memory stand-in for Kubeflow Pipelines' API
// server on KFP's native task line (v2beta1 RunService, ArtifactService and
// PipelineService, gRPC paths /kubeflow.pipelines.backend.api.v2beta1.*),
// for tests of drivers and launchers. Its rules were read from KFP's
// backend/src/apiserver (server/run_server.go, server/artifact_server.go,
// server/api_converter.go, storage/task_store.go,
// storage/artifact_task_store.go, auth/) at commit 6585b5143d67.
//
// Runs and pipeline versions are seeded (AddRun, AddPipelineVersion); runs
// are never created, archived or deleted through the API. The server runs
// as KFP in multi-user mode unless Options.SingleUser.
//
// Implemented, as KFP does it:
//   - GetRun: DEFAULT view without tasks (task_count set), FULL view with
//     every task hydrated, by create time; a run that references a pipeline
//     version seeded before it answers the version's spec in FULL view.
//   - GetPipelineVersion: by pipeline_version_id (pipeline_id must match
//     when set).
//   - CreateTask: run_id required, run must exist, body run_id must agree,
//     a parent must be a task of the same run; UUID task_id; whole-second
//     create_time (the client's, or now); only parameters kept from
//     inputs/outputs; state appended to state_history. A task with the
//     same run, parent, scope_path, name, type and iteration_index as a
//     stored one returns the stored task unchanged (retry safety).
//   - UpdateTask, UpdateTasksBulk: KFP's merge (see merge in update.go);
//     parameters merged by type, key, producer and iteration; a state
//     change appends to state_history. Bulk checks every task before
//     changing any.
//   - GetTask, ListTasks (run_id required; parent_id narrows to children;
//     order_by "", "create_time [asc|desc]"; page_size 0 means 20, capped
//     at 200; keyset page tokens bound to their query; total_size; filter:
//     KFP's URL-escaped Filter JSON with EQUALS or IN predicates on "name"
//     and "parent_task_id", ANDed, anything else InvalidArgument). Tasks
//     carry child_tasks (except from CreateTask and FindCachedTask) and
//     inputs/outputs artifacts derived from links (except from CreateTask).
//   - FindCachedTask: newest SUCCEEDED task with the fingerprint in the
//     namespace; no task when none; namespace required unless SingleUser;
//     a run bound through BoundRunIDMetadataKey must be in the namespace.
//   - CreateArtifact(s Bulk): KFP's checks; an OUTPUT (ITERATOR_OUTPUT with
//     iteration_index) link keyed by producer_key is added; reuse_if_exists
//     shares an equal artifact (not in bulk). Bulk calls are all or nothing.
//   - CreateArtifactTask(s Bulk): every field but id required; the task
//     must be in run_id and the artifact's namespace; an equal link
//     (artifact, task, type, iteration, key) answers Internal, as KFP's
//     unique index does.
//   - GetArtifact; ListArtifactTasks by task/run/artifact ids (ANDed lists,
//     at least one) and type; ListArtifacts by namespace, and KFP's
//     importer filter (one uri EQUALS predicate, every match on one page).
//   - Authentication (Options.Authenticate): one "authorization: Bearer"
//     header, else Unauthenticated; the run the call targets is offered to
//     the Authenticator (RequestedRunID) for run-scoped audiences, and a
//     run-bound Principal is refused (PermissionDenied) on any other run.
//     TokenReviewAuthenticator does KFP's TokenReview against a real
//     kube-apiserver.
//
// Where KFP's order is arbitrary (ties of random UUIDs, Go map order of
// merged parameters) this server uses insertion order.
//
// Not implemented: ListTasks filters on other keys or operations, ListArtifactTasks filters, other sort
// orders, ListArtifacts filters other than the uri lookup and sort_by
// (InvalidArgument); authorization (KFP's SubjectAccessReview: any
// authenticated principal may touch any run it is not bound away from);
// every other RPC of the three services (Unimplemented).
//
// Calls counts every call per method, refused ones included; FailWith
// injects an error into every call.
package kfpapitest
