"""What every experiment script shares: flags, running the sweep, writing .npz and .png."""

import logging
import os
import time

from absl import flags
import jax

import sslgap
from sslgap import config as config_lib
from sslgap import results as results_lib
from sslgap import sweep

_OUT = flags.DEFINE_string('out', None, 'Output folder (default: results/<config.name>).')
_CHUNK_SIZE = flags.DEFINE_integer('chunk_size', None, 'Runs per compiled chunk (default: engine.chunk_size).')
_QUIET = flags.DEFINE_bool('quiet', False, 'Only warnings and errors; no progress bar.')


def device_kind():
  return jax.devices()[0].device_kind


def write_results(path, plan, metrics):
  results_lib.save(path, plan.axes, plan.eval_steps, metrics, config_lib.to_json(plan.config),
                   sslgap_version=sslgap.__version__, jax_version=jax.__version__,
                   device_kind=device_kind())


def run_experiment(config, plot):
  """Runs config's sweep, writes <out>/<name>.npz and .png, returns the .npz path.

  plot(results, config) -> matplotlib figure.
  """
  logging.basicConfig(level=logging.WARNING if _QUIET.value else logging.INFO, format='%(message)s')
  out = _OUT.value or os.path.join('results', config.name)
  os.makedirs(out, exist_ok=True)
  start = time.perf_counter()
  plan, metrics = sweep.run_sweep(config, chunk_size=_CHUNK_SIZE.value, progress=not _QUIET.value)
  elapsed = time.perf_counter() - start
  path = os.path.join(out, f'{config.name}.npz')
  write_results(path, plan, metrics)
  from sslgap import plotting
  plotting.save(plot(results_lib.load(path), config), os.path.join(out, f'{config.name}.png'))
  logging.getLogger('sslgap').warning('%d runs in %.1f s; wrote %s and .png', plan.num_runs, elapsed, path)
  return path
