"""python3 -m kfp.dsl.executor_main: the entry point compiled
Python-function components run.

Exit status: 0 when the function returned and the executor output is
written; 1 when the user code raised (a real task failure, traceback on
stderr); 127 when the task cannot run in this image (a module it imports
is not installed, or it needs what the stand-in lacks), which the launcher
stand-in reads as user code it could not run, like a shell's "command not
found"."""

import argparse
import importlib.util
import json
import os
import sys
import traceback

from kfp.dsl.errors import Unsupported
from kfp.dsl.executor import Executor

CANNOT_RUN = 127


def load_function(module_path, name):
    """Imports the component source as a module of its own (named after
    the file, its directory first on sys.path, as the SDK does) and returns
    the function."""
    module_name = os.path.splitext(os.path.basename(module_path))[0]
    spec = importlib.util.spec_from_file_location(module_name, module_path)
    if spec is None:
        raise ValueError(f'{module_path} is not a Python module')
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: dataclasses and pickle look it up there.
    sys.modules[module_name] = module
    sys.path.insert(0, os.path.dirname(module_path))
    spec.loader.exec_module(module)
    func = getattr(module, name, None)
    if not callable(func):
        raise ValueError(f'{module_path} defines no function {name!r}')
    return func


def cannot_run(exc):
    """Why exc means the task cannot run here (None: a user error). The
    chain of explicit causes counts, so that a wrapped import error does."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, Unsupported):
            return str(exc)
        if isinstance(exc, ImportError):
            module = exc.name or ''
            if module == 'kfp' or module.startswith('kfp.'):
                return f'{exc} (the KFP SDK stand-in has only what a running component needs)'
            if isinstance(exc, ModuleNotFoundError):
                return (f'module {module!r} is not installed: the image has the '
                        'Python standard library and the KFP SDK stand-in only')
        exc = exc.__cause__
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='python3 -m kfp.dsl.executor_main',
        description='Runs a KFP Python-function component (e2e stand-in).')
    parser.add_argument('--component_module_path')
    parser.add_argument('--function_to_execute', required=True)
    parser.add_argument('--executor_input', required=True)
    args, _ = parser.parse_known_args(argv)
    name = args.function_to_execute
    try:
        if not args.component_module_path:
            # The SDK then reads kfp_config.ini from a component image
            # built by `kfp component build`; this image is no such one.
            raise Unsupported('no --component_module_path: containerized '
                              'Python components need their own image')
        func = load_function(args.component_module_path, name)
        executor_input = json.loads(args.executor_input)
        output = Executor(executor_input, func).execute()
    except Exception as exc:
        reason = cannot_run(exc)
        traceback.print_exc()
        if reason is None:
            return 1
        print(f'[KFP SDK stand-in] {name} cannot run in this image: {reason}',
              file=sys.stderr, flush=True)
        return CANNOT_RUN
    print(f'[KFP SDK stand-in] {name}: wrote {output}', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
