"""Errors that mean "this task cannot run in this image" rather than
"the user code failed": executor_main exits 127 for them, which the
launcher stand-in reads as user code it could not run."""


class Unsupported(Exception):
    """A feature the stand-in does not have."""


class UnsupportedName(Unsupported, AttributeError):
    """A kfp name the stand-in lacks. It is an AttributeError too, so that
    hasattr() and getattr() with a default behave as usual."""


def missing_name(module, name):
    """Module __getattr__ body: dunder lookups (import machinery, pickling)
    get a plain AttributeError, anything else says what is missing."""
    if name.startswith('__') and name.endswith('__'):
        raise AttributeError(f'module {module!r} has no attribute {name!r}')
    raise UnsupportedName(
        f'{module}.{name} is not in the KFP SDK stand-in of the e2e suite')
