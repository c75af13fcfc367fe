"""How many runs fit in a chunk: bytes per run, the device's memory, and the budget.

The estimate counts what one run holds while its chunk executes: parameters and optimiser
state (twice, since scan double-buffers its carry), the recorded metrics, and the larger of
one training step (gradients, updates, the batch and its activations) and one evaluation
slice (two consecutive layers' activations live at once). benchmarks/bench_memory.py
measures it against the process's real peak.
"""

import math
import os

import jax
import numpy as np

from sslgap import hparams
from sslgap import models
from sslgap import tasks
from sslgap import train

FLOAT_BYTES = 4
OPTIMIZER_SLOTS = {'sgd': 0, 'momentum': 1, 'adamw': 2}
# Of an accelerator allocator's limit (XLA's preallocation); of host RAM, shared with everything else, on a CPU.
ACCELERATOR_FRACTION = 0.8
HOST_FRACTION = 0.5


def param_count(config):
  task = tasks.make_task(config.task)
  if config.model.kind == 'quadratic_neuron':
    return tasks.input_dim(task) + 1
  shapes = jax.eval_shape(train.build_model(config.model, task).init, jax.random.key(0),
                          jax.ShapeDtypeStruct((1,) + task.example_shape, task.x_dtype))
  return sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(shapes))


def examples_per_step(config):
  """Examples one step of one run pushes through the model (the largest full-batch slice)."""
  if config.model.kind == 'quadratic_neuron':
    return hparams.pool_size(config)  # phase 1 reads the whole pool every step
  if config.data.mode != 'full_batch':
    return config.train.batch_size
  return min(max(hparams.static_phases(config)[0]), train.full_batch_microbatch(config))


def bytes_per_run(config):
  """{component: bytes} for one run of this static config; step and evaluation never coexist."""
  task = tasks.make_task(config.task)
  params = param_count(config)
  rows = examples_per_step(config)
  eval_rows = min(config.data.eval_batch_size, max(config.task.test_size, config.data.eval_train_size))
  metrics = len(train.metric_names(config)) * len(train.eval_steps(config))
  slots = OPTIMIZER_SLOTS[config.optim.kind]
  if config.model.kind == 'quadratic_neuron':  # the pool is shared; a run holds w, a and a few [M] vectors
    return {'state': 2 * FLOAT_BYTES * params, 'step': 3 * FLOAT_BYTES * rows, 'evaluation': 0,
            'metrics': FLOAT_BYTES * metrics}
  if config.model.kind == 'transformer':
    m = config.model
    seq = task.example_shape[0]
    per_token_layer = (6 + 2 * m.mlp_ratio) * m.dim + 2 * m.heads * seq  # activations and attention
    return {
        'state': 2 * FLOAT_BYTES * params * (1 + slots),
        'step': FLOAT_BYTES * (3 * params + 3 * rows * seq * (m.layers * per_token_layer + 2 * m.dim)),
        'evaluation': FLOAT_BYTES * eval_rows * seq * per_token_layer,
        'metrics': FLOAT_BYTES * metrics,
    }
  widths = config.model.hidden_layers * config.model.width + 1
  return {
      'state': 2 * FLOAT_BYTES * params * (1 + slots),
      'step': FLOAT_BYTES * (3 * params + rows * (tasks.input_dim(task) + 4 * widths)),
      'evaluation': FLOAT_BYTES * eval_rows * (widths + config.model.width),
      'metrics': FLOAT_BYTES * metrics,
  }


def cpu_runs_per_device(config):
  """Runs whose training steps fit engine.cpu_cache_bytes together, at least one."""
  parts = bytes_per_run(config)
  return max(1, parse_bytes(config.engine.cpu_cache_bytes) // (parts['state'] // 2 + parts['step']))


def total_bytes_per_run(config):
  parts = bytes_per_run(config)
  return parts['state'] + parts['metrics'] + max(parts['step'], parts['evaluation'])


def device_memory_bytes(device=None):
  """The device's memory; host RAM for a CPU device."""
  device = device or jax.local_devices()[0]
  stats = device.memory_stats() if hasattr(device, 'memory_stats') else None
  if stats and stats.get('bytes_limit'):
    return int(stats['bytes_limit'])
  return os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')


def default_budget(fraction=0.0, device=None):
  """Bytes a chunk may use on one device: `fraction` of its memory, or our default fraction if 0."""
  device = device or jax.local_devices()[0]
  if not fraction:
    fraction = HOST_FRACTION if device.platform == 'cpu' else ACCELERATOR_FRACTION
  return int(fraction * device_memory_bytes(device))


def parse_bytes(text):
  """'80GB', '141e9', '512MiB' -> bytes."""
  text = str(text).strip()
  units = {'kib': 2**10, 'mib': 2**20, 'gib': 2**30, 'tib': 2**40,
           'kb': 1e3, 'mb': 1e6, 'gb': 1e9, 'tb': 1e12, 'b': 1}
  for unit, factor in units.items():
    if text.lower().endswith(unit):
      return int(float(text[:-len(unit)]) * factor)
  return int(float(text))


def choose_chunk_size(per_run, budget, shared, runs, num_devices, cap):
  """Runs per chunk: a multiple of num_devices that fits each device's budget, no more than needed."""
  per_device = max(int((budget - shared) // per_run), 1)
  needed = -(-min(runs, cap) // num_devices)
  return num_devices * min(per_device, needed)
