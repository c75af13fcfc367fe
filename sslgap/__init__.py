"""sslgap: vmapped sweeps for "Less Data, Faster Training" (Liu, Edelman, Goel, Liu, ICML 2026).

The package is in wings whose imports run one way (tests/test_imports.py), from the bottom:
  base/     registries, declared hyper-parameters, crash-safe files, the platform, command helpers
  tasks/    the tasks (plug-in point)          models/   the models and parameterisations (plug-in point)
  training/ one training run in JAX            science/  result grids, statistics, claims, figures
  setup/    a config, checked and resolved     folder/   an output folder as one object (Folder)
  engine/   planning and running sweeps        paper/    the catalog, config builders, report, findings
and at the top the commands (api, cli, design, merge, reproduce, show, status) and two leaves (errors,
version). A module's old flat path keeps working, as optax keeps its public names over _src:
`from sslgap import optim` or `import sslgap.claims` give the module of its wing (MOVED below), and
`python -m sslgap.findings` runs it.
"""

import importlib
import importlib.abc
import importlib.util
import os
import sys

from sslgap.version import __version__  # noqa: F401

HOST_DEVICES_FLAG = '--xla_force_host_platform_device_count'


def _one_host_device_per_core():
  """Splits the CPU into one XLA device per core, unless XLA_FLAGS already says how many.

  XLA runs a CPU device's kernels one at a time and our per-run matrices are small, so one
  multi-threaded device leaves cores idle; a device per core, each holding part of the
  chunk's runs, is 2.5x faster on 2 cores (benchmarks/bench_sweep.py). It only takes effect
  if no JAX backend has started yet, and changes nothing on a GPU, whose devices stay the
  default. SSLGAP_HOST_DEVICES=N sets the count (1 turns the split off).
  """
  flags = os.environ.get('XLA_FLAGS', '')
  if HOST_DEVICES_FLAG in flags:
    return
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
  count = int(os.environ.get('SSLGAP_HOST_DEVICES', cores))
  if count > 1:
    os.environ['XLA_FLAGS'] = f'{flags} {HOST_DEVICES_FLAG}={count}'.strip()


_one_host_device_per_core()

MOVED = {name: f'{wing}.{name}' for wing, names in {
    'base': ('registry', 'hparams', 'files', 'backend', 'command'),
    'training': ('train', 'sources', 'schedules', 'evaluation', 'optim', 'data', 'losses'),
    'science': ('results', 'stats', 'series', 'claims', 'notes', 'plotting'),
    'setup': ('config', 'options', 'spec', 'plugins'),
    'folder': ('folder_paths', 'plan_file', 'chunk_files', 'leases', 'merging', 'chunking'),
    'engine': ('sweep', 'memory', 'rehearse', 'runner', 'stopping', 'launch'),
    'paper': ('report', 'catalog', 'figures', 'findings'),
    'models': ('parameterization',),
}.items() for name in names}


class _FlatPath(importlib.abc.MetaPathFinder, importlib.abc.Loader):
  """sslgap.NAME for a module that moved into a wing: the wing's module itself (one module object, so a
  plug-in's registration or a test's monkeypatch reaches it by either path), and its code for -m."""

  def find_spec(self, fullname, path=None, target=None):
    name = fullname.partition('sslgap.')[2]
    if not fullname.startswith('sslgap.') or name not in MOVED:
      return None
    return importlib.util.spec_from_loader(fullname, self)

  def create_module(self, spec):
    return importlib.import_module(f'sslgap.{MOVED[spec.name[len("sslgap."):]]}')

  def exec_module(self, module):
    pass  # the wing's module ran when it was imported

  def get_code(self, fullname):  # python -m sslgap.NAME (runpy asks for the code to run as __main__)
    real = importlib.util.find_spec(f'sslgap.{MOVED[fullname[len("sslgap."):]]}')
    return real.loader.get_code(real.name)


if not any(isinstance(finder, _FlatPath) for finder in sys.meta_path):
  sys.meta_path.append(_FlatPath())


def run(config, out=None, progress=True, **options):
  """Runs a config's sweep (a ConfigDict or 'sweeps/x.py:preset') and returns its Results; see sslgap.api."""
  from sslgap import api  # noqa: PLC0415 - JAX starts only when a sweep runs
  return api.run(config, out, progress, **options)


def load(path):
  """The Results of an .npz or of a sweep folder; see sslgap.api."""
  from sslgap import api  # noqa: PLC0415 - as run
  return api.load(path)


def plot(results, metric=None, out=None):
  """The figure of a grid (a matplotlib Figure), written to out if given; see sslgap.api."""
  from sslgap import api  # noqa: PLC0415 - as run
  return api.plot(results, metric, out)
