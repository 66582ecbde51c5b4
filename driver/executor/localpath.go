package executor

// LocalPath is where the launcher keeps the artifact at uri inside the
// executor pod (gs://b/k -> /gcs/b/k, and likewise s3:// and minio://): the
// path command-line placeholders resolve to.
func LocalPath(uri string) string { return localPath(uri) }
