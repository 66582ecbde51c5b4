// Package kfpapipb holds the generated Go code for the subset of Kubeflow
// Pipelines' v2beta1 API (run, artifact, pipeline and filter messages and the
// RunService, ArtifactService and PipelineService methods) that KFP's driver
// and launcher use on KFP's native task and artifact line, which replaced ML
// Metadata. Package, names and field numbers are KFP's, so it is wire
// compatible with a real API server; it is generated here rather than
// imported from KFP's backend module to keep that module's dependency tree
// out of the plugin.
package kfpapipb

//go:generate ./gen.sh
