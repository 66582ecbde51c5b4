"""kfp.dsl as a running component sees it: artifact classes, the argument
annotations, get_uri and the placeholder strings (what the SDK exports
under _KFP_RUNTIME=true), plus pass-through decorators. Any other name
raises errors.UnsupportedName, which executor_main turns into exit 127."""

from kfp.dsl.annotations import EmbeddedAnnotation
from kfp.dsl.annotations import EmbeddedInput
from kfp.dsl.annotations import Input
from kfp.dsl.annotations import InputAnnotation
from kfp.dsl.annotations import InputPath
from kfp.dsl.annotations import Output
from kfp.dsl.annotations import OutputAnnotation
from kfp.dsl.annotations import OutputPath
from kfp.dsl.annotations import PipelineTaskFinalStatus
from kfp.dsl.annotations import TaskConfig
from kfp.dsl.artifacts import Artifact
from kfp.dsl.artifacts import ClassificationMetrics
from kfp.dsl.artifacts import Dataset
from kfp.dsl.artifacts import get_uri
from kfp.dsl.artifacts import HTML
from kfp.dsl.artifacts import Markdown
from kfp.dsl.artifacts import Metrics
from kfp.dsl.artifacts import Model
from kfp.dsl.artifacts import SlicedClassificationMetrics
from kfp.dsl.errors import missing_name as _missing_name
from kfp.dsl.errors import Unsupported as _Unsupported

# Placeholders are strings the backend substitutes in a pipeline's
# arguments; a running function only ever sees them as values.
PIPELINE_JOB_NAME_PLACEHOLDER = '{{$.pipeline_job_name}}'
PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER = '{{$.pipeline_job_resource_name}}'
PIPELINE_JOB_ID_PLACEHOLDER = '{{$.pipeline_job_uuid}}'
PIPELINE_TASK_NAME_PLACEHOLDER = '{{$.pipeline_task_name}}'
PIPELINE_TASK_ID_PLACEHOLDER = '{{$.pipeline_task_uuid}}'
PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER = '{{$.outputs.output_file}}'
PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER = '{{$}}'
PIPELINE_ROOT_PLACEHOLDER = '{{$.pipeline_root}}'
PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER = '{{$.pipeline_job_create_time_utc}}'
PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER = '{{$.pipeline_job_schedule_time_utc}}'
WORKSPACE_PATH_PLACEHOLDER = '{{$.workspace_path}}'


def _pass_through(func=None, **options):
    """@component, @component(...), @pipeline...: the compiled source has
    the bare function already, so a decorator left in user code (a nested
    helper, say) only has to give the function back."""
    if func is None:
        return lambda f: f
    return func


component = _pass_through
container_component = _pass_through
notebook_component = _pass_through
pipeline = _pass_through


def run_notebook(**parameters):
    raise _Unsupported(
        'dsl.run_notebook needs nbclient and a Jupyter kernel, which this '
        'image does not have')


__all__ = [
    'Input', 'Output', 'InputPath', 'OutputPath', 'EmbeddedInput',
    'PipelineTaskFinalStatus', 'TaskConfig',
    'Artifact', 'ClassificationMetrics', 'Dataset', 'HTML', 'Markdown',
    'Metrics', 'Model', 'SlicedClassificationMetrics', 'get_uri',
    'PIPELINE_JOB_NAME_PLACEHOLDER', 'PIPELINE_JOB_RESOURCE_NAME_PLACEHOLDER',
    'PIPELINE_JOB_ID_PLACEHOLDER', 'PIPELINE_TASK_NAME_PLACEHOLDER',
    'PIPELINE_TASK_ID_PLACEHOLDER',
    'PIPELINE_TASK_EXECUTOR_OUTPUT_PATH_PLACEHOLDER',
    'PIPELINE_TASK_EXECUTOR_INPUT_PLACEHOLDER', 'PIPELINE_ROOT_PLACEHOLDER',
    'PIPELINE_JOB_CREATE_TIME_UTC_PLACEHOLDER',
    'PIPELINE_JOB_SCHEDULE_TIME_UTC_PLACEHOLDER', 'WORKSPACE_PATH_PLACEHOLDER',
    'run_notebook', 'component', 'container_component', 'notebook_component',
    'pipeline',
]


def __getattr__(name):
    return _missing_name(__name__, name)
