"""The e2e image's pip: it has no package index to install from, so it
only says whether a requirement is already satisfied. kfp (this stand-in),
kfp-* extensions, typing-extensions (the standard typing module serves)
and pip count as installed; anything else exits 127, which the launcher
stand-in reads as user code this image cannot run."""

import os
import platform
import re
import sys

__version__ = '0+e2e.standin'

CANNOT_INSTALL = 127

_INSTALLED = {'kfp': '2.14.6+e2e.standin', 'typing-extensions': '4.12.2+e2e.standin',
              'pip': __version__}

# pip install options that take a value (the next argument unless written
# --opt=value); the value is no requirement.
_VALUED = {
    '-i', '--index-url', '--extra-index-url', '--trusted-host', '-f',
    '--find-links', '-c', '--constraint', '-t', '--target', '--prefix',
    '--root', '--platform', '--python-version', '--implementation', '--abi',
    '--progress-bar', '--cache-dir', '--log', '--src', '--upgrade-strategy',
    '--proxy', '--retries', '--timeout', '--global-option', '-C',
    '--config-settings', '--only-binary', '--no-binary', '--root-user-action',
    '--report', '--exists-action', '--cert', '--client-cert', '--python',
    '--use-feature', '--use-deprecated', '--python-path',
}

_NAME = re.compile(r'\s*([A-Za-z0-9][A-Za-z0-9._-]*)')
_MARKER_TERM = re.compile(
    r'\s*(\w+)\s*(===|==|!=|<=|>=|<|>)\s*["\']([^"\']*)["\']\s*$')


def normalize(name):
    """PEP 503 name: case and runs of -_. do not matter."""
    return re.sub(r'[-_.]+', '-', name).lower()


def installed(name):
    n = normalize(name)
    return n in _INSTALLED or n.startswith('kfp-')


def _version(s):
    return tuple(int(p) if p.isdigit() else 0 for p in s.split('.'))


def _marker_term(term):
    """One `variable op "value"` term; None when it is not that simple."""
    m = _MARKER_TERM.match(term)
    if not m:
        return None
    var, op, value = m.groups()
    env = {
        'python_version': '%d.%d' % sys.version_info[:2],
        'python_full_version': platform.python_version(),
        'sys_platform': sys.platform,
        'platform_system': platform.system(),
        'platform_machine': platform.machine(),
        'os_name': os.name,
        'implementation_name': sys.implementation.name,
    }
    if var not in env:
        return None
    left, right = env[var], value
    if var.endswith('_version'):
        left, right = _version(left), _version(right)
    elif op not in ('==', '!=', '==='):
        return None
    return {'==': left == right, '===': left == right, '!=': left != right,
            '<': left < right, '<=': left <= right, '>': left > right,
            '>=': left >= right}[op]


def applies(marker):
    """Whether an environment marker holds here. Only `and`/`or` chains of
    simple terms are read; anything else counts as holding, so that an
    unread marker never hides a requirement."""
    for alternative in re.split(r'\s+or\s+', marker):
        terms = [_marker_term(t) for t in re.split(r'\s+and\s+', alternative)]
        if None in terms:
            return True
        if all(terms):
            return True
    return False


def requirement_name(req):
    """The project a requirement string names; None for what is not a
    named requirement (a URL, a path); '' when its marker does not hold
    here, as nothing is to be installed then."""
    spec, _, marker = req.partition(';')
    if marker.strip() and not applies(marker):
        return ''
    m = _NAME.match(spec)
    if not m or '://' in spec or spec.strip().startswith(('.', '/')):
        return None
    return m.group(1)


def _read_requirements(path):
    with open(path) as f:
        for line in f:
            line = line.split(' #', 1)[0].strip()
            if line and not line.startswith(('#', '-')):
                yield line


def install(args):
    wanted, editable = [], []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        opt = arg.split('=', 1)[0]
        if opt in ('-r', '--requirement'):
            path = arg.split('=', 1)[1] if '=' in arg else args[i]
            i += 0 if '=' in arg else 1
            wanted.extend(_read_requirements(path))
        elif opt in ('-e', '--editable'):
            editable.append(arg.split('=', 1)[1] if '=' in arg else args[i])
            i += 0 if '=' in arg else 1
        elif opt in _VALUED:
            i += 0 if '=' in arg else 1
        elif arg.startswith('-'):
            continue  # a flag: --quiet, --no-deps, --upgrade...
        else:
            wanted.append(arg)
    missing = list(editable)
    for req in wanted:
        name = requirement_name(req)
        if name == '':
            continue  # its marker excludes this interpreter
        if name is None or not installed(name):
            missing.append(req)
    if missing:
        print('pip (e2e stand-in): cannot install ' + ', '.join(missing) +
              ': this image has no package index; only kfp, kfp-*, '
              'typing-extensions and pip are available', file=sys.stderr)
        return CANNOT_INSTALL
    return 0


def main(argv=None):
    args = list(sys.argv[1:] if argv is None else argv)
    while args and args[0].startswith('-') and args[0] not in ('-V', '--version'):
        args.pop(0)  # general options before the command: -q, --isolated...
    if not args or args[0] in ('-V', '--version'):
        print(f'pip {__version__} (e2e stand-in, python '
              f'{sys.version_info[0]}.{sys.version_info[1]})')
        return 0
    command, rest = args[0], args[1:]
    if command == 'install':
        return install(rest)
    if command in ('list', 'freeze'):
        sep = '==' if command == 'freeze' else ' '
        for name, version in sorted(_INSTALLED.items()):
            print(f'{name}{sep}{version}')
        return 0
    if command == 'show':
        names = [a for a in rest if not a.startswith('-')]
        for name in names:
            if not installed(name):
                print(f'WARNING: Package(s) not found: {name}', file=sys.stderr)
                return 1
            print(f'Name: {name}\nVersion: '
                  f'{_INSTALLED.get(normalize(name), _INSTALLED["kfp"])}')
        return 0
    print(f'pip (e2e stand-in): {command!r} is not available in this image',
          file=sys.stderr)
    return CANNOT_INSTALL
