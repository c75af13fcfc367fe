"""sslgap: vmapped sweeps for "Less Data, Faster Training" (Liu, Edelman, Goel, Liu, ICML 2026)."""

import os

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
