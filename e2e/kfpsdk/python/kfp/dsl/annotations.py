"""Annotations component functions use to say what an argument is."""

import dataclasses
from typing import Annotated, Any, Optional, TypeVar


class InputAnnotation:
    """Marks Input[T]: an input artifact."""


class OutputAnnotation:
    """Marks Output[T]: an output artifact the function writes."""


class EmbeddedAnnotation:
    """Marks EmbeddedInput[T]: files the compiler embedded in the source."""


T = TypeVar('T')
Input = Annotated[T, InputAnnotation]
Output = Annotated[T, OutputAnnotation]
EmbeddedInput = Annotated[T, EmbeddedAnnotation]


class _PathAnnotation:
    """InputPath(type) / OutputPath(type): the argument is a local path."""

    def __init__(self, type: Any = None):
        self.type = type

    def __eq__(self, other):
        return type(self) is type(other) and self.type == other.type

    def __hash__(self):
        return hash((type(self).__name__, repr(self.type)))

    def __repr__(self):
        return f'{type(self).__name__}({self.type!r})'


class InputPath(_PathAnnotation):
    """The local path of an input artifact."""


class OutputPath(_PathAnnotation):
    """The local path an output (parameter or artifact) is written to."""


@dataclasses.dataclass
class PipelineTaskFinalStatus:
    """The final status of the task an exit handler guards."""
    state: str
    pipeline_job_resource_name: str
    pipeline_task_name: str
    error_code: Optional[int]
    error_message: Optional[str]


@dataclasses.dataclass
class TaskConfig:
    """The Kubernetes settings of the task, as the backend passes them."""
    affinity: Optional[dict] = None
    tolerations: Optional[list] = None
    node_selector: Optional[dict] = None
    env: Optional[list] = None
    volumes: Optional[list] = None
    volume_mounts: Optional[list] = None
    resources: Optional[dict] = None
