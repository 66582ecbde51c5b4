"""Checks every component the test passes (a JSON list of {"id",
"function", "source", "prelude"} on stdin, prelude being the shell script
that pip-installs its packages) and says, one JSON object a line, whether
the stand-in can run it:

  ok          pip has every package; the module imports, the function is
              there, every argument and the return annotation are
              supported, every module the source imports (in the function
              too) is installed, and every global name the function's code
              reads (and every dsl./kfp. attribute) exists;
  cannot-run  a reason the task would exit 127 for (a package pip cannot
              install, a module the image lacks, a feature the stand-in
              does not have);
  error       anything else: a bug of the stand-in or of this check.
"""

import builtins
import contextlib
import dis
import ast
import importlib.util
import inspect
import io
import json
import os
import re
import shlex
import sys
import tempfile
import traceback

from kfp.dsl import executor
from kfp.dsl import executor_main
from kfp.dsl.errors import Unsupported
import pip


def code_objects(code):
    yield code
    for const in code.co_consts:
        if inspect.iscode(const):
            yield from code_objects(const)


def unresolved_names(func):
    """Global names (and attributes of the kfp / dsl modules) the
    function's code reads that do not exist."""
    missing = set()
    globals_ = func.__globals__
    for code in code_objects(func.__code__):
        previous = None
        for ins in dis.get_instructions(code):
            if ins.opname == 'LOAD_GLOBAL':
                name = ins.argval
                if name not in globals_ and not hasattr(builtins, name):
                    missing.add(name)
            elif ins.opname in ('LOAD_ATTR', 'LOAD_METHOD') and previous is not None \
                    and previous.opname == 'LOAD_GLOBAL' and previous.argval in ('dsl', 'kfp'):
                module = globals_.get(previous.argval)
                if module is not None and not hasattr(module, ins.argval):
                    missing.add(f'{previous.argval}.{ins.argval}')
            previous = ins
    return sorted(missing)


def pip_installs(prelude):
    """Runs our pip on each `pip install ...` of the prelude, as the shell
    would, stopping at the first that fails."""
    for args in re.findall(r'pip install (.*?)(?:&&|$)', prelude, re.M):
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = pip.install(shlex.split(args))
        if code != 0:
            raise Unsupported(err.getvalue().strip())


def imported_modules(source):
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split('.')[0]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split('.')[0]


def check(component, workdir):
    pip_installs(component.get('prelude', ''))
    path = os.path.join(workdir, component['id'].replace('/', '_') + '.py')
    with open(path, 'w') as f:
        f.write(component['source'])
    func = executor_main.load_function(path, component['function'])
    hints = executor._hints(func)
    for name in inspect.signature(func).parameters:
        if name in hints:
            try:
                executor.argument_kind(executor.strip_optional(hints[name]))
            except Unsupported as e:
                raise Unsupported(f'argument {name}: {e}') from None
    executor.return_kind(hints.get('return', inspect.Signature.empty))
    for module in sorted(set(imported_modules(component['source']))):
        if importlib.util.find_spec(module) is None:
            raise ModuleNotFoundError(f'No module named {module!r}', name=module)
    missing = unresolved_names(func)
    if missing:
        raise NameError('names not found: ' + ', '.join(missing))


def main():
    components = json.load(sys.stdin)
    with tempfile.TemporaryDirectory() as workdir:
        for component in components:
            result = {'id': component['id']}
            try:
                # User code may print at import: stdout is for results.
                with contextlib.redirect_stdout(sys.stderr):
                    check(component, workdir)
                result['status'] = 'ok'
            except (Exception, SystemExit) as exc:
                reason = executor_main.cannot_run(exc)
                if reason is None:
                    result['status'] = 'error'
                    result['reason'] = ''.join(
                        traceback.format_exception_only(type(exc), exc)).strip()
                else:
                    result['status'] = 'cannot-run'
                    result['reason'] = reason
            print(json.dumps(result), flush=True)


if __name__ == '__main__':
    main()
