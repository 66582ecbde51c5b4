"""The e2e image's ensurepip: pip is there already (the stand-in), so
bootstrapping it has nothing to do. `python3 -m venv` runs it in every new
environment, and the Python runtime leaves the real one out."""

import sys


def bootstrap(*args, **kwargs):
    """What the real module's API does, minus the installing."""


def version():
    import pip
    return pip.__version__


def _main(argv=None):
    print('ensurepip (e2e stand-in): pip is already installed', file=sys.stderr)
    return 0
