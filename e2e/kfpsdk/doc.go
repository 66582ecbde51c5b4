// Package kfpsdk is the end-to-end suite's stand-in for the KFP SDK's
// run-time half, written for the suite (no code of KFP's): the Python
// package kfp that a compiled Python-function component imports and runs
// through `python3 -m kfp.dsl.executor_main`, and a pip that installs
// nothing. Files places both in an image that has a Python runtime
// (ociimage.PythonRuntime), so that the components' real command lines run
// their user code.
//
// What it has:
//   - kfp.dsl names a running component uses (with `from kfp import dsl`,
//     `from kfp.dsl import *` or `import kfp`): Input, Output, InputPath,
//     OutputPath, EmbeddedInput, the artifact classes (Artifact, Dataset,
//     Model, Metrics, ClassificationMetrics, SlicedClassificationMetrics,
//     HTML, Markdown) with their metadata loggers, get_uri,
//     PipelineTaskFinalStatus, TaskConfig, the placeholder strings and
//     pass-through component/pipeline decorators;
//   - kfp.dsl.executor_main, which runs the function on the executor input
//     as KFP's executor does: parameters (the function's defaults when
//     absent), input and output artifacts at the local paths the launcher
//     mirrors their URIs to (gs:// at /gcs/, s3:// at /s3/, minio:// at
//     /minio/, oci:// at /oci/, as driver/executor.LocalPath), lists of
//     input artifacts, InputPath/OutputPath, embedded files, return values
//     (a single one is the output "Output", a NamedTuple one output per
//     field, a returned artifact replaces the provisioned one) and writes
//     the executor output JSON (parameterValues, artifacts with their
//     metadata) to outputs.outputFile;
//   - pip (module and /usr/local/bin/pip): kfp, kfp-*, typing-extensions
//     and pip count as installed; any other requirement exits 127;
//   - ensurepip, a no-op (pip is there): `python3 -m venv` runs it, and
//     the Python runtime leaves the real one out.
//
// What it has not: other packages (pandas, sklearn, nbclient: the image
// has the standard library only), notebooks (dsl.run_notebook),
// containerized components (kfp_config.ini), lists of output artifacts,
// pydantic parameter types and the compile-time SDK (dsl.importer,
// dsl.ParallelFor, kfp.Client...). A task that needs one exits 127 with a
// message saying what is missing; the launcher stand-in reads 127 as "user
// code cannot run in this image". A user exception exits 1 with its
// traceback: a real task failure.
//
// For tests only, MountRootEnv moves the /gcs, /s3, /minio, /oci (and
// /kfp-workspace) mounts under a directory, as tests cannot write at /.
package kfpsdk
