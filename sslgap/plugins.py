"""Loading a user's own tasks and models: the files (or modules) named in config.plugins.

A plug-in file registers what it defines (@sslgap.tasks.register, @sslgap.models.register)
when it is imported. Configs name their plug-ins, so every process that runs the config (a
resumed sweep, a cluster shard) finds them: paths are relative to the folder the command runs
in (the repository root), or module names.
"""

import hashlib
import importlib
import importlib.util
import os
import sys

_LOADED = {}


class PluginError(ValueError):
  pass


def load(names):
  """Imports each plug-in once; PluginError names one that is missing or fails to import."""
  for name in names:
    if name in _LOADED:
      continue
    if name.endswith('.py') or os.sep in name:
      path = os.path.abspath(name)
      if not os.path.isfile(path):
        raise PluginError(f'{name!r}: no such file (paths are relative to {os.getcwd()})')
      module_name = 'sslgap_plugin_' + hashlib.sha1(path.encode()).hexdigest()[:12]
      spec = importlib.util.spec_from_file_location(module_name, path)
      module = importlib.util.module_from_spec(spec)
      sys.modules[module_name] = module
      try:
        spec.loader.exec_module(module)
      except Exception as e:  # noqa: BLE001 - the plug-in's own error, named with the plug-in
        del sys.modules[module_name]
        raise PluginError(f'{name!r} failed to import: {type(e).__name__}: {e}') from None
    else:
      try:
        module = importlib.import_module(name)
      except Exception as e:  # noqa: BLE001
        raise PluginError(f'module {name!r} failed to import: {type(e).__name__}: {e}') from None
    _LOADED[name] = module
