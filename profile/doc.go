// Package profile is the multi-user profile controller: a metacontroller
// DecoratorController sync hook that provisions, in every namespace labelled
// pipelines.kubeflow.org/enabled=true, what Kubeflow Pipelines and this
// executor plugin need there. It replaces KFP's Python sync.py hook.
//
// The hook (Sync) is a function of the namespace, the observed
// attachments, the Settings read from the environment at start-up and the
// agent pod metadata read from the plugin ConfigMap's annotations (mounted as
// files, re-read when they change), with one side effect: a namespace
// without an artifact Secret gets a key from an objectstore.Issuer (with
// SeaweedFS, a user and key of its own through the IAM API; with MinIO, the
// shared key). Handler serves it over HTTP.
//
// Children of an enabled namespace:
//   - ConfigMaps kfp-launcher, metadata-grpc-configmap and
//     artifact-repositories (Argo's default artifact repository), and the
//     Secret mlpipeline-minio-artifact, as sync.py creates them;
//   - the ml-pipeline-ui-artifact Deployment and Service when the artifacts
//     proxy is enabled;
//   - for the plugin: ServiceAccount ml-pipeline-driver-agent-executor-plugin
//     and its token Secret (Argo mounts it into the sidecar and refuses to
//     create the agent pod without the account), a RoleBinding to the
//     plugin's ClusterRole, the token Secret of the workflow account, and a
//     PodDefault that gives agent pods the admin's labels and annotations.
package profile
