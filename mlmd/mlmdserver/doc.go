// Package mlmdserver is an in-memory implementation of ML Metadata's gRPC
// API (ml_metadata.MetadataStoreService) for tests and local development.
//
// It is a test and development server, not a production store: everything
// lives in process memory and is lost on exit, there is no authentication
// or TLS, and every RPC runs under one mutex (as the real MLMD server
// does), so it is built for correctness, not throughput. The real MLMD
// server is C++ only; this package lets the KFP driver, KFP's launcher and
// their tests talk to something that answers like it.
//
// # Semantics
//
// The RPCs follow google/ml-metadata's MetadataStore, including its status
// codes:
//
//   - Put{Artifact,Execution,Context}Type and PutTypes upsert by (name,
//     version): the same name returns the same id. A stored property with
//     another value type, a new property without can_add_fields, or an
//     omitted property without can_omit_fields is ALREADY_EXISTS. A type
//     without a name or with an UNKNOWN property is INVALID_ARGUMENT.
//     Get*Type answers NOT_FOUND for a missing type. Type ids come from one
//     sequence shared by the three kinds, as in MLMD's single Type table.
//   - Put{Artifacts,Executions,Contexts} create a node when its id is unset
//     and replace the stored node (properties included) when it is set. A
//     new node needs an existing type_id (missing: INVALID_ARGUMENT; unknown:
//     NOT_FOUND) and properties declared by that type (INVALID_ARGUMENT). A
//     context needs a non-empty name. (type_id, name) and external_id are
//     unique per node kind: a duplicate is ALREADY_EXISTS. Updating an
//     unknown id is INVALID_ARGUMENT, which is what MLMD answers (not
//     NOT_FOUND). Artifact and execution names cannot change once written.
//     create_time_since_epoch is set on insert; last_update_time_since_epoch
//     moves only when an update changes something. type, the type name, is
//     filled in on every read.
//   - PutExecution upserts the pairs' artifacts, then the execution, then
//     inserts the pairs' events, then upserts the contexts (with
//     reuse_context_if_already_exist: an existing (type, name) is reused) and
//     links the execution and every artifact of the request to each
//     context. reuse_artifact_if_already_exist_by_external_id turns a new
//     artifact with a stored external_id into an update of it.
//   - Events are unique per (artifact, execution, type): ALREADY_EXISTS.
//     Both ends must exist: INVALID_ARGUMENT.
//   - PutAttributionsAndAssociations ignores existing links and answers
//     INVALID_ARGUMENT for an unknown context, artifact or execution.
//     PutParentContexts answers ALREADY_EXISTS for an existing link and
//     INVALID_ARGUMENT for an unknown context or a cycle.
//   - Get*ByTypeAndName answer an empty response, not an error, when the
//     type or the node is missing. Get*ByID skip unknown ids.
//     GetContextsByExecution and GetContextsByArtifact answer NOT_FOUND when
//     there is no context, as MLMD does.
//
// Every write RPC is one transaction: if any part fails, nothing it did
// remains (ids it handed out are not reused, as with a database sequence).
//
// # Lists and paging
//
// The list RPCs (Get{Artifacts,Executions,Contexts}, *ByType, *ByContext)
// take ListOperationOptions: max_result_size (proto default 20, at most 100;
// zero or less is INVALID_ARGUMENT), order_by_field (ID, CREATE_TIME or
// LAST_UPDATE_TIME, ascending by default, ties broken by id), filter_query
// and next_page_token. The token is opaque; reusing it with another
// ordering is INVALID_ARGUMENT. next_page_token is empty on the last page.
// Without options, every matching node is returned in ascending id order.
//
// # Filter subset
//
// filter_query accepts this subset of MLMD's ZetaSQL filter language:
//
//	query     := term { AND term }
//	term      := "(" query ")" | predicate
//	predicate := field ( "=" | "!=" | "<>" ) literal
//	           | field [ NOT ] IN "(" literal { "," literal } ")"
//	field     := attribute                          e.g. name, id, type
//	           | ( properties | custom_properties ) "." name "." value_kind
//	           | contexts_ALIAS "." context_attribute          (artifacts, executions)
//	           | ( parent_contexts_ALIAS | child_contexts_ALIAS ) "." ( id | name | type )   (contexts)
//	value_kind := int_value | double_value | string_value | bool_value
//	literal   := integer | decimal | 'string' | "string" | TRUE | FALSE | ENUM_NAME
//
// Attributes are id, type_id, type, name, external_id,
// create_time_since_epoch and last_update_time_since_epoch, plus uri and
// state (artifacts) or last_known_state (executions); context_attribute is
// id, name, type, create_time_since_epoch or last_update_time_since_epoch.
// A property name may be `back-quoted`. Keywords are case-insensitive.
// Comparisons follow SQL: a missing property or unset attribute (NULL)
// satisfies neither = nor !=, and predicates on the same alias must hold for
// the same neighbouring context. Examples the KFP driver and its tools use:
//
//	custom_properties.parent_dag_id.int_value = 42
//	custom_properties.task_name.string_value = 'train' AND name = "run/abc"
//	contexts_run.id = 7 AND custom_properties.parent_dag_id.int_value = 42
//	last_known_state IN (COMPLETE, CACHED)
//
// Anything else is INVALID_ARGUMENT, never silently ignored: OR, NOT
// (except NOT IN), LIKE, IS [NOT] NULL, BETWEEN, <, <=, >, >=,
// artifacts_/executions_/events_ neighbourhoods, and a literal of the wrong
// type for its field.
//
// # Not implemented
//
// These answer UNIMPLEMENTED: PutLineageSubgraph, GetLineageGraph,
// GetLineageSubgraph; a non-empty update_mask on
// Put{Artifacts,Executions,Contexts}; base_type on a type;
// all_fields_match=false.
//
// # Known differences from MLMD
//
//   - PutExecution checks that an event given without its artifact refers
//     to an existing artifact (INVALID_ARGUMENT); MLMD stores the dangling
//     event.
//   - MLMD registers its built-in base types (mlmd.Dataset, ...) at start;
//     this store starts empty, so its first type id is 1.
//   - Timestamps are wall-clock milliseconds made strictly increasing, so
//     ordering by time never ties.
//   - String comparisons in filters are case-sensitive (MLMD on MySQL
//     usually compares case-insensitively).
//   - Renaming a context onto an existing (type, name) is ALREADY_EXISTS.
//   - Like MLMD on MySQL (strict mode), a type name, node name or external_id
//     longer than 255 characters is INTERNAL "Data too long"; MLMD on SQLite
//     would accept it.
//
// # Test hooks
//
// Start serves a Server on a TCP address; mlmdservertest.StartTest does so
// on a loopback port for the length of a test, and mlmdservertest.NewClient
// connects a client to it. Calls counts RPCs per method
// (ResetCalls zeroes the counts), SetUnavailable makes every RPC answer
// UNAVAILABLE until switched back, and FailNext makes the next n calls of
// one method fail with a chosen code. The hooks act on calls that arrive
// over gRPC.
package mlmdserver
