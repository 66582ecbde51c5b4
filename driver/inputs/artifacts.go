package inputs

// WorkspaceMetadataKey marks an artifact an importer placed in the
// pipeline workspace; the pod then mounts the workspace.
const WorkspaceMetadataKey = "_kfp_workspace"
