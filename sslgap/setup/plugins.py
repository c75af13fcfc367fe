"""Loading a user's own tasks and models: the files (or modules) named in config.plugins, and any
Python file of the user's (a config file too) with its failures said in one line.

A plug-in file registers what it defines (@sslgap.tasks.register, @sslgap.models.register)
when it is imported. Configs name their plug-ins, so every process that runs the config (a
resumed sweep, a cluster shard) finds them: paths are relative to the folder the command runs
in (the repository root) or to the config file, or module names.
"""

import hashlib
import importlib
import importlib.util
import os
import sys

from sslgap.errors import PluginError, UserError

_LOADED = {}


def module_name_for(path, prefix):
  """A module name of its own for a file, the same each time the same file is imported."""
  return f'{prefix}_{os.path.splitext(os.path.basename(path))[0]}_{hashlib.sha1(path.encode()).hexdigest()[:8]}'


def import_file(path, prefix, error=PluginError, again=False):
  """Imports a Python file as a module (once per process unless `again`; kept in sys.modules, so the
  classes it registers know their file). Any failure, a syntax error included, is one `error`
  naming the file."""
  path = os.path.realpath(path)
  name = module_name_for(path, prefix)
  if name in sys.modules and not again:
    return sys.modules[name]
  spec = importlib.util.spec_from_file_location(name, path)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  try:
    spec.loader.exec_module(module)
  except SyntaxError as e:
    del sys.modules[name]
    raise error(f'{path}, line {e.lineno}: SyntaxError: {e.msg}') from None
  except UserError as e:  # a check of ours that the file's own code ran into (a plug-in it registers)
    del sys.modules[name]
    raise error(f'{path}: {e}') from None
  except Exception as e:  # noqa: BLE001 - the file's own error, named with the file
    del sys.modules[name]
    raise error(f'{path} failed to import: {type(e).__name__}: {e}') from None
  return module


def load(names):
  """Imports each plug-in once; PluginError names one that is missing or fails to import."""
  for name in names:
    if name in _LOADED:
      continue
    if name.endswith('.py') or os.sep in name:
      if not os.path.isfile(name):
        raise PluginError(f'{name!r}: no such file (paths are relative to {os.getcwd()}, or to the config file)')
      module = import_file(name, 'sslgap_plugin')
    else:
      try:
        module = importlib.import_module(name)
      except Exception as e:  # noqa: BLE001
        raise PluginError(f'module {name!r} failed to import: {type(e).__name__}: {e}') from None
    _LOADED[name] = module
