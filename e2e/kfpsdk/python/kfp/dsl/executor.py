"""Calls a component function with the arguments an ExecutorInput gives and
writes what it produced as the ExecutorOutput the launcher reads."""

import inspect
import json
import os
import types
import typing

from kfp.dsl import artifacts as _artifacts
from kfp.dsl.annotations import EmbeddedAnnotation
from kfp.dsl.annotations import InputAnnotation
from kfp.dsl.annotations import InputPath
from kfp.dsl.annotations import OutputAnnotation
from kfp.dsl.annotations import OutputPath
from kfp.dsl.annotations import PipelineTaskFinalStatus
from kfp.dsl.annotations import TaskConfig
from kfp.dsl.errors import Unsupported

_PARAMETER_TYPES = (str, int, float, bool, dict, list)
_MARKERS = (InputAnnotation, OutputAnnotation, EmbeddedAnnotation)
_OMIT = object()  # no argument: the function's default applies


def strip_optional(annotation):
    """Optional[X] (or X | None) -> X; anything else unchanged."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = typing.get_args(annotation)
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(rest) < len(args):
            return rest[0]
    return annotation


def io_marker(annotation):
    """(marker, inner type) for Input[T], Output[T], EmbeddedInput[T];
    (None, annotation) otherwise."""
    if typing.get_origin(annotation) is typing.Annotated:
        inner, *extras = typing.get_args(annotation)
        for marker in _MARKERS:
            if marker in extras:
                return marker, inner
    return None, annotation


def is_artifact_class(annotation):
    return isinstance(annotation, type) and issubclass(
        annotation, _artifacts.Artifact)


def artifact_list_item(annotation):
    """The artifact class of List[Artifact class], else None."""
    if typing.get_origin(annotation) is list:
        args = typing.get_args(annotation)
        if len(args) == 1 and is_artifact_class(args[0]):
            return args[0]
    return None


def is_parameter(annotation):
    return (typing.get_origin(annotation) or annotation) in _PARAMETER_TYPES


def is_named_tuple(annotation):
    return (isinstance(annotation, type) and issubclass(annotation, tuple) and
            hasattr(annotation, '_fields'))


def make_artifact(runtime_artifact, fallback_cls):
    """An artifact object for a RuntimeArtifact (JSON), of the class its
    schema title names, else of the annotated class."""
    title = (runtime_artifact.get('type') or {}).get('schemaTitle', '')
    cls = _artifacts.SCHEMA_TITLES.get(title)
    if cls is None:
        cls = fallback_cls if is_artifact_class(fallback_cls) else _artifacts.Artifact
    return cls(
        name=runtime_artifact.get('name', ''),
        uri=runtime_artifact.get('uri', ''),
        metadata=runtime_artifact.get('metadata') or {})


def _hints(func):
    """The annotations with Annotated kept; string annotations (PEP 563)
    resolved when they can be."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:
        return dict(getattr(func, '__annotations__', {}))


def argument_kind(annotation):
    """What an argument annotated so is (Optional stripped):
    final_status, task_config, embedded, output_artifact, input_artifact,
    output_path, input_path or parameter. Raises Unsupported otherwise."""
    if annotation is PipelineTaskFinalStatus:
        return 'final_status'
    if annotation is TaskConfig:
        return 'task_config'
    marker, inner = io_marker(annotation)
    if marker is EmbeddedAnnotation:
        return 'embedded'
    if marker is OutputAnnotation:
        if artifact_list_item(inner):
            raise Unsupported('a list of output artifacts')
        return 'output_artifact'
    if marker is InputAnnotation or is_artifact_class(
            annotation) or artifact_list_item(annotation):
        return 'input_artifact'
    if isinstance(annotation, OutputPath):
        return 'output_path'
    if isinstance(annotation, InputPath):
        return 'input_path'
    if is_parameter(annotation):
        return 'parameter'
    raise Unsupported(f'annotation {annotation!r} is not supported')


def return_kind(annotation):
    """What a return annotation makes of the value: none, parameter,
    artifact or named_tuple (whose fields are parameters or artifacts).
    Raises Unsupported otherwise."""
    if annotation in (inspect.Signature.empty, None, type(None)):
        return 'none'
    if is_named_tuple(annotation):
        for field, field_type in getattr(annotation, '__annotations__', {}).items():
            if return_kind(field_type) not in ('parameter', 'artifact'):
                raise Unsupported(f'NamedTuple field {field}: {field_type!r}')
        return 'named_tuple'
    stripped = strip_optional(annotation)
    if artifact_list_item(stripped):
        raise Unsupported('returning a list of artifacts')
    if is_parameter(stripped):
        return 'parameter'
    if is_artifact_class(stripped):
        return 'artifact'
    raise Unsupported(f'return annotation {annotation!r} is not supported')


class Executor:
    """One run of a component function on one ExecutorInput."""

    def __init__(self, executor_input, func):
        self.func = getattr(func, 'python_func', func)
        self.name = getattr(self.func, '__name__', repr(self.func))
        self.inputs = executor_input.get('inputs') or {}
        self.outputs = executor_input.get('outputs') or {}
        self.output_file = self.outputs.get('outputFile')
        if not self.output_file:
            raise ValueError('the executor input has no outputs.outputFile')
        # The output file lives in the local mirror of the task root, the
        # directory get_uri makes URIs under.
        _artifacts.set_task_root(os.path.dirname(self.output_file))
        self.hints = _hints(self.func)
        self.parameter_values = {}
        self.output_artifacts = {}
        for name, listed in (self.outputs.get('artifacts') or {}).items():
            runtime = (listed or {}).get('artifacts') or []
            if not runtime:
                continue
            artifact = make_artifact(runtime[0], self._declared_class(name))
            _make_parent(artifact.path)
            self.output_artifacts[name] = artifact

    def _declared_class(self, output):
        """The artifact class the function declares for an output."""
        annotation = self.hints.get(output)
        if annotation is None:
            ret = self.hints.get('return')
            annotation = ret if output == 'Output' else getattr(
                ret, '__annotations__', {}).get(output)
        _, inner = io_marker(strip_optional(annotation))
        return inner

    def execute(self):
        """Runs the function and writes the executor output file; returns
        its path."""
        result = self.func(**self.arguments())
        self.collect(result)
        return self.write_output()

    def arguments(self):
        kwargs = {}
        for name in inspect.signature(self.func).parameters:
            if name not in self.hints:
                continue  # not a component input: the function's own default
            try:
                value = self._argument(name, strip_optional(self.hints[name]))
            except Unsupported as e:
                raise Unsupported(f'argument {name}: {e}') from None
            if value is not _OMIT:
                kwargs[name] = value
        return kwargs

    def _argument(self, name, annotation):
        kind = argument_kind(annotation)
        if kind == 'final_status':
            return _final_status(self._parameter(name) or {})
        if kind == 'task_config':
            return _task_config(self._parameter(name) or {})
        _, inner = io_marker(annotation)
        if kind == 'embedded':
            return self._embedded(name, inner)
        if kind == 'output_artifact':
            return self.output_artifacts.get(name)
        if kind == 'input_artifact':
            return self._input_artifact(name, inner)
        if kind == 'output_path':
            return self._output_path(name)
        if kind == 'input_path':
            artifact = self._input_artifact(name, _artifacts.Artifact)
            if artifact is None:
                raise ValueError(f'input artifact {name} is not in the executor input')
            return artifact.path
        value = self._parameter(name)
        if value is None:
            return _OMIT
        if (typing.get_origin(annotation) or annotation) is int and \
                isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON numbers may come as 3.0
        return value

    def _parameter(self, name):
        return (self.inputs.get('parameterValues') or {}).get(name)

    def _input_artifact(self, name, annotation):
        runtime = ((self.inputs.get('artifacts') or {}).get(name) or
                   {}).get('artifacts') or []
        if not runtime:
            return None
        item = artifact_list_item(annotation)
        if item is not None:
            return [make_artifact(a, item) for a in runtime]
        return make_artifact(runtime[0], annotation)

    def _output_path(self, name):
        """OutputPath: the file of an output parameter or the local path of
        an output artifact, whichever the executor input declares."""
        parameter = (self.outputs.get('parameters') or {}).get(name)
        if parameter is not None:
            path = parameter.get('outputFile')
            if path:
                _make_parent(path)
            return path
        if name in self.output_artifacts:
            return self.output_artifacts[name].path
        raise ValueError(f'output {name} is not in the executor input')

    def _embedded(self, name, inner):
        """EmbeddedInput: the compiler put an archive in the source, which
        unpacks it at import and names the result in module globals."""
        globals_ = getattr(self.func, '__globals__', {})
        path = globals_.get('__KFP_EMBEDDED_ASSET_FILE') or globals_.get(
            '__KFP_EMBEDDED_ASSET_DIR')
        if not path:
            raise ValueError(f'argument {name}: the source embeds no files')
        artifact = inner() if is_artifact_class(inner) else _artifacts.Artifact()
        artifact.path = path
        return artifact

    def collect(self, result):
        """Records the return value: a single one is the output "Output", a
        NamedTuple gives one output per field."""
        if result is None:
            return
        ret = self.hints.get('return', inspect.Signature.empty)
        if return_kind(ret) != 'named_tuple':
            self._single('Output', ret, result)
            return
        fields = ret._fields
        if len(result) != len(fields):
            raise ValueError(f'{self.name} returned {len(result)} values, '
                             f'want {len(fields)} ({", ".join(fields)})')
        types_ = getattr(ret, '__annotations__', {})
        for i, field in enumerate(fields):
            value = result[i] if type(result) is tuple else getattr(result, field)
            self._single(field, types_.get(field), value)

    def _single(self, name, annotation, value):
        kind = return_kind(annotation)
        if kind == 'parameter':
            stripped = strip_optional(annotation)
            if value is None and stripped is not annotation:
                return  # an Optional output not produced
            origin = typing.get_origin(stripped) or stripped
            accepted = (int, float) if origin is float else origin
            if not isinstance(value, accepted):
                raise TypeError(f'{self.name} returned {type(value).__name__} '
                                f'for {name}, want {origin.__name__}')
            self.parameter_values[name] = value
        elif kind == 'artifact':
            if isinstance(value, _artifacts.Artifact):
                # A returned artifact replaces the provisioned one: the
                # function chose its URI (dsl.get_uri) and wrote its file.
                self.output_artifacts[name] = value
                return
            artifact = self.output_artifacts.get(name)
            if artifact is None:
                raise ValueError(f'output artifact {name} is not in the executor input')
            with open(artifact.path, 'w') as f:
                f.write(str(value))
        else:
            raise TypeError(
                f'{self.name} returned a value for {name}, but its return '
                f'annotation {annotation!r} is no parameter type, artifact '
                'or NamedTuple')

    def write_output(self):
        out = {}
        if self.parameter_values:
            out['parameterValues'] = self.parameter_values
        if self.output_artifacts:
            out['artifacts'] = {
                name: {'artifacts': [_runtime_artifact(a)]}
                for name, a in self.output_artifacts.items()
            }
        _make_parent(self.output_file)
        with open(self.output_file, 'w') as f:
            json.dump(out, f)
        return self.output_file


def _runtime_artifact(artifact):
    entry = {'name': artifact.name, 'uri': artifact.uri,
             'metadata': artifact.metadata}
    if artifact.custom_path:
        entry['custom_path'] = artifact.custom_path
    return entry


def _make_parent(path):
    parent = os.path.dirname(path)
    if parent:
        os.makedirs(parent, exist_ok=True)


def _final_status(value):
    """PipelineTaskFinalStatus from its parameter value (camelCase keys, or
    the snake_case ones older backends sent)."""
    error = value.get('error') or {}

    def pick(camel, snake):
        v = value.get(camel)
        return value.get(snake) if v is None else v

    return PipelineTaskFinalStatus(
        state=value.get('state'),
        pipeline_job_resource_name=pick('pipelineJobResourceName',
                                        'pipeline_job_resource_name'),
        pipeline_task_name=pick('pipelineTaskName', 'pipeline_task_name'),
        error_code=error.get('code'),
        error_message=error.get('message'),
    )


def _task_config(value):
    return TaskConfig(
        affinity=value.get('affinity'),
        tolerations=value.get('tolerations'),
        node_selector=value.get('nodeSelector'),
        env=value.get('env'),
        volumes=value.get('volumes'),
        volume_mounts=value.get('volumeMounts'),
        resources=value.get('resources'),
    )
