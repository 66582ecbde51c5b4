// Package driverlog keeps each driver step's log in the object store, at the
// URI the driver recorded on the step's execution (driver_logs_uri, which
// KFP's UI reads), so that it outlives the agent pod: Argo deletes that pod
// when the workflow ends and archives no plugin logs.
//
// A Recorder wraps the driver: after a step is decided it renders the step's
// log (the call, the decision and the outputs; no credentials, bounded in
// size) and hands it to an Uploader, whose queue is bounded and whose single
// worker writes to the admin's object-store endpoint. The reply to Argo never
// waits for the upload, and a full queue or a failed upload only costs the
// log (counted in metrics, logged); stderr logging is unchanged.
//
// Only minio:// and s3:// URIs are written, always to the configured
// endpoint with the configured key (the namespace's artifact key): a URI
// chooses the bucket and path, never which server is dialled.
package driverlog
