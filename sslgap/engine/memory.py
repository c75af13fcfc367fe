"""How many runs fit in a chunk: bytes per run, the device's memory, and the budget.

The estimate counts what one run holds while its chunk executes: parameters and optimiser
state (twice, since scan double-buffers its carry), the recorded metrics, and the larger of
one training step (gradients, updates, the batch and its activations) and one evaluation
slice (two consecutive layers' activations live at once). benchmarks/bench_memory.py
measures it against the process's real peak.
"""

import os
import re

import jax

from sslgap.base import sizes
from sslgap.training import optim

FLOAT_BYTES = 4
# Of an accelerator allocator's limit (XLA's preallocation); of host RAM, shared with everything else, on a CPU.
ACCELERATOR_FRACTION = 0.8
HOST_FRACTION = 0.5


def param_count(spec):
  return spec.model.param_count()


def examples_per_step(spec):
  """Examples one step of one run pushes through the model (the largest full-batch slice)."""
  if not spec.full_batch:
    return spec.train.batch_size
  return min(max(spec.static_phases[0]), spec.full_batch_microbatch)


def bytes_per_run(spec):
  """{component: bytes} for one run of a run spec; step and evaluation never coexist.

  The model plug-in gives the activations (activation_floats), or the whole figure (bytes_per_run)."""
  metrics = FLOAT_BYTES * len(spec.metric_names) * len(spec.eval_steps)
  if hasattr(spec.model, 'bytes_per_run'):
    return dict(spec.model.bytes_per_run(spec), metrics=metrics)
  params = param_count(spec)
  eval_rows = min(spec.data.eval_batch_size, max(spec.test_size, spec.data.eval_train_size))
  step, evaluation = spec.model.activation_floats(examples_per_step(spec), eval_rows)
  return {
      'state': 2 * FLOAT_BYTES * params * (1 + optim.OPTIMIZERS[spec.optimizer].slots),
      'step': FLOAT_BYTES * (3 * params + step),
      'evaluation': FLOAT_BYTES * evaluation,
      'metrics': metrics,
  }


def cpu_runs_per_device(spec, cache_bytes):
  """Runs whose training steps fit `cache_bytes` (engine.cpu_cache_bytes) together, at least one."""
  parts = bytes_per_run(spec)
  return max(1, parse_bytes(cache_bytes) // (parts['state'] // 2 + parts['step']))


def total_bytes_per_run(spec):
  parts = bytes_per_run(spec)
  return parts['state'] + parts['metrics'] + max(parts['step'], parts['evaluation'])


def host_memory_bytes():
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def device_memory_bytes(device=None):
  """The device's memory (its allocator's limit); host RAM for a CPU device."""
  device = device or jax.local_devices()[0]
  try:
    stats = device.memory_stats() if hasattr(device, 'memory_stats') else None
  except Exception:  # noqa: BLE001 - some backends do not implement it
    stats = None
  if stats and stats.get('bytes_limit'):
    return int(stats['bytes_limit'])
  return host_memory_bytes()


def default_budget(fraction=0.0, device=None):
  """Bytes a chunk may use on one device: `fraction` of its memory, or our default fraction if 0.

  device: a jax device, or a planning dict {'platform', 'memory'} (see named_device).
  """
  if device is None or not isinstance(device, dict):
    device = device or jax.local_devices()[0]
    device = {'platform': device.platform, 'memory': device_memory_bytes(device)}
  if not fraction:
    fraction = HOST_FRACTION if device['platform'] == 'cpu' else ACCELERATOR_FRACTION
  return int(fraction * device['memory'])


# Memory of accelerators by the names people use, for planning on another machine
# (--dry_run --device=h100x8). Each is the card's memory as sold.
NAMED_DEVICES = {
    'a100': 80e9, 'a100-40gb': 40e9, 'a10g': 24e9, 'h100': 80e9, 'h200': 141e9, 'b200': 192e9,
    'l4': 24e9, 'l40s': 48e9, 'v100': 32e9, 'rtx4090': 24e9, 'mi250x': 128e9, 'mi300x': 192e9,
    'tpu-v4': 32e9, 'tpu-v5e': 16e9, 'tpu-v5p': 95e9, 'tpu-v6e': 32e9,
}


def named_device(text):
  """'h100' or 'h100x8' -> a planning dict {'kind', 'platform', 'count', 'memory'}; ValueError if unknown."""
  text = str(text).strip().lower()
  split = re.fullmatch(r'(.+)[x:](\d+)', text)
  kind, count = (split.group(1), split.group(2)) if split and split.group(1) in NAMED_DEVICES else (text, '1')
  if kind not in NAMED_DEVICES or int(count) < 1:
    raise ValueError(f'--device must be one of {sorted(NAMED_DEVICES)}, optionally with xCOUNT or :COUNT '
                     f'(for example h100x8, mi300x:8), got {text!r}')
  platform = 'tpu' if kind.startswith('tpu') else 'gpu'
  return {'kind': kind, 'platform': platform, 'count': int(count), 'memory': int(NAMED_DEVICES[kind])}


def compiled_bytes(compiled):
  """Device memory XLA reserves for one call of a compiled executable (per device); 0 if unknown."""
  try:
    stats = compiled.memory_analysis()
  except Exception:  # noqa: BLE001 - not every backend implements it
    return 0
  if stats is None:
    return 0
  peak = getattr(stats, 'peak_memory_in_bytes', 0) or 0
  total = sum(getattr(stats, f, 0) or 0 for f in ('argument_size_in_bytes', 'output_size_in_bytes',
                                                  'temp_size_in_bytes', 'generated_code_size_in_bytes'))
  return int(max(peak, total - (getattr(stats, 'alias_size_in_bytes', 0) or 0)))


def fit_fixed_and_per_run(width_a, bytes_a, width_b, bytes_b):
  """(fixed bytes, bytes per run) of the line through two (runs per device, bytes) measurements."""
  per_run = max((bytes_b - bytes_a) / (width_b - width_a), 1.0)
  return max(bytes_a - per_run * width_a, 0.0), per_run


# --- measured peaks (rehearsals, benchmarks) ---------------------------------------------------

def _status_bytes(field):
  try:
    with open('/proc/self/status') as f:
      for line in f:
        if line.startswith(field + ':'):
          return int(line.split()[1]) * 1024
  except OSError:
    pass
  return None


def reset_peak_rss():
  """Starts a new peak-RSS window (Linux); False where the kernel does not allow it."""
  try:
    with open('/proc/self/clear_refs', 'w') as f:
      f.write('5')
    return True
  except OSError:
    return False


def rss_bytes():
  return _status_bytes('VmRSS') or 0


def peak_rss_bytes():
  """The process's peak resident memory since the last reset_peak_rss (or since it started)."""
  peak = _status_bytes('VmHWM')
  if peak is None:
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
  return peak


def allocator_peak_bytes(device=None):
  """An accelerator allocator's peak bytes in use (0 where it has no statistics)."""
  device = device or jax.local_devices()[0]
  try:
    stats = device.memory_stats() or {}
  except Exception:  # noqa: BLE001
    stats = {}
  return int(stats.get('peak_bytes_in_use', 0))


parse_bytes, describe_bytes = sizes.parse_bytes, sizes.describe_bytes  # where the engine's callers look


class TooSmall(ValueError):
  """A budget that holds no run at all."""


def runs_per_call(budget, runs, num_devices, cap, per_run=None, shared=0, measured=None, cpu_runs_per_device=None):
  """Runs in one call of a compiled kernel: a multiple of num_devices whose memory fits each device's
  budget (from the formula's bytes per run and shared data, or XLA's measured fixed + per run), no
  more than a CPU device keeps in cache (cpu_runs_per_device), than `cap`, or than the `runs` a
  kernel has (rounded up to the devices). TooSmall if the budget holds no run."""
  fixed, each = (measured['fixed'], measured['per_run']) if measured else (shared, per_run)
  per_device = int((budget - fixed) // each)
  if per_device < 1:
    raise TooSmall(f'{describe_bytes(budget)} per device holds no run of this sweep: one needs '
                   f'{describe_bytes(each)} besides {describe_bytes(fixed)} of shared data')
  if cpu_runs_per_device:
    per_device = min(per_device, cpu_runs_per_device)
  needed = -(-min(runs, cap) // num_devices)
  return num_devices * min(per_device, needed)
