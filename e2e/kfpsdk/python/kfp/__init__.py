"""The e2e suite's stand-in for the KFP SDK: only what a compiled
Python-function component needs while its task runs (see doc.go next to
this tree). Nothing here is KFP's code."""

# A local version label keeps it apart from any real release.
__version__ = '2.14.6+e2e.standin'

from kfp import dsl  # noqa: E402  sources do `import kfp` then use kfp.dsl
from kfp.dsl.errors import missing_name as _missing_name  # noqa: E402


def __getattr__(name):
    return _missing_name(__name__, name)
