package kfpapi

import pb "github.com/kfp-driver-plugin/kfp-driver-plugin/kfpapi/proto"

// schemaTitles are KFP's artifact schema titles for the API server's
// artifact types.
var schemaTitles = map[pb.Artifact_ArtifactType]string{
	pb.Artifact_Artifact:                   "system.Artifact",
	pb.Artifact_Model:                      "system.Model",
	pb.Artifact_Dataset:                    "system.Dataset",
	pb.Artifact_HTML:                       "system.HTML",
	pb.Artifact_Markdown:                   "system.Markdown",
	pb.Artifact_Metric:                     "system.Metrics",
	pb.Artifact_ClassificationMetric:       "system.ClassificationMetrics",
	pb.Artifact_SlicedClassificationMetric: "system.SlicedClassificationMetrics",
}

// SchemaTitle is the schema title of an artifact type; an unset type is a
// generic artifact.
func SchemaTitle(t pb.Artifact_ArtifactType) string {
	if s, ok := schemaTitles[t]; ok {
		return s
	}
	return schemaTitles[pb.Artifact_Artifact]
}

// ArtifactType is the artifact type of a schema title; unknown titles
// (custom types) are generic artifacts.
func ArtifactType(title string) pb.Artifact_ArtifactType {
	for t, s := range schemaTitles {
		if s == title {
			return t
		}
	}
	return pb.Artifact_Artifact
}
