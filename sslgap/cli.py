"""What every experiment script shares: flags, running the sweep into a folder, the .png."""

import logging
import os
import sys

from absl import flags
import jax

from sslgap import config as config_lib
from sslgap import results as results_lib
from sslgap import runner
from sslgap import store
from sslgap import sweep

_OUT = flags.DEFINE_string('out', None, 'Output folder (default: results/<config.name>).')
_CHUNK_SIZE = flags.DEFINE_integer('chunk_size', None, 'Runs per chunk (default: the most that fit the memory budget).')
_MEMORY_BUDGET = flags.DEFINE_string('memory_budget', None, 'Bytes per device for a chunk, e.g. 60GB '
                                     '(default: engine.memory_fraction of the device memory).')
_SHARD = flags.DEFINE_string('shard', '0/1', 'i/N: run only every N-th chunk, starting at chunk i.')
_FRESH = flags.DEFINE_bool('fresh', False, 'Discard finished chunks in --out instead of resuming from them.')
_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'Print the plan (grid, chunks, memory estimate) and exit.')
_QUIET = flags.DEFINE_bool('quiet', False, 'Only warnings and errors; no progress bar.')
_CACHE = flags.DEFINE_string('compilation_cache', None, "Folder for JAX's persistent compilation cache.")
_LAUNCHER = flags.DEFINE_enum('launcher', None, ['slurm', 'local'],
                              'Submit --shards shards as a job array with submitit, then merge (extra "cluster").')
_SHARDS = flags.DEFINE_integer('shards', 4, 'Number of shards for --launcher.')
_SLURM_PARTITION = flags.DEFINE_string('slurm_partition', None, 'Slurm partition for --launcher=slurm.')
_TIMEOUT_MIN = flags.DEFINE_integer('timeout_min', 240, 'Time limit per shard job, minutes.')
_GPUS_PER_NODE = flags.DEFINE_integer('gpus_per_node', 1, 'GPUs per shard job for --launcher=slurm.')


def run_experiment(config, plot):
  """Like _run_experiment, but a bad config or output folder ends with its message, exit code 2."""
  try:
    return _run_experiment(config, plot)
  except (config_lib.ConfigError, store.StoreError) as error:
    print(f'error: {error}', file=sys.stderr)
    sys.exit(2)


def _run_experiment(config, plot):
  """Runs config's sweep into <out>, writes <out>/<name>.npz and .png; returns the .npz path or None.

  plot(results, config) -> matplotlib figure. Exits with 128 + signal number if interrupted.
  """
  logging.basicConfig(level=logging.WARNING if _QUIET.value else logging.INFO, format='%(message)s',
                      force=True)
  log = logging.getLogger('sslgap')
  if _CACHE.value:
    jax.config.update('jax_compilation_cache_dir', _CACHE.value)
    jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)
  out = _OUT.value or os.path.join('results', config.name)
  if _DRY_RUN.value:
    print(sweep.make_plan(config, _CHUNK_SIZE.value, _MEMORY_BUDGET.value).describe())
    return None
  if _LAUNCHER.value:
    from sslgap import launch
    path = launch.launch(config, out, _SHARDS.value, _LAUNCHER.value, chunk_size=_CHUNK_SIZE.value,
                         memory_budget=_MEMORY_BUDGET.value, partition=_SLURM_PARTITION.value,
                         timeout_min=_TIMEOUT_MIN.value, gpus_per_node=_GPUS_PER_NODE.value)
  else:
    summary = runner.run_to_folder(config, out, _CHUNK_SIZE.value, _MEMORY_BUDGET.value,
                                   runner.parse_shard(_SHARD.value), _FRESH.value, progress=not _QUIET.value)
    if summary.stopped_by:
      sys.exit(128 + summary.stopped_by)
    path = summary.path
  if path:
    from sslgap import plotting
    png = os.path.join(out, f'{config.name}.png')
    plotting.save(plot(results_lib.load(path), config), png)
    log.warning('wrote %s and %s', path, png)
  return path

