"""The sweep engine: a config's grid as a few compiled, vmapped kernels.

The grid is the product of the config's sweep axes. Static axes (and the data seed) are
looped in Python; every other axis is flattened and cut into fixed-size chunks, each one
call of `jit(vmap(run))` with its run axis sharded over the local devices. A static point
compiles once; data seeds reuse its kernel. A run's result depends only on its grid point.
"""

import dataclasses
import itertools
import logging
import time

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
import numpy as np

from sslgap import config as config_lib
from sslgap import data as data_lib
from sslgap import hparams
from sslgap import memory
from sslgap import tasks
from sslgap import train

log = logging.getLogger('sslgap')


@dataclasses.dataclass
class Group:
  """Runs that share one compiled kernel and one data seed."""

  config: object  # the concrete config of the static point
  fixed: dict  # axis position -> value index, for static axes and the data seed
  data_seed: int
  kernel_id: int


@dataclasses.dataclass
class Plan:
  """The whole sweep cut into chunks; everything derives from the config and the chunk size."""

  config: object
  axes: list  # [(name, values)]
  traced: list  # positions of vmapped axes
  groups: list
  chunk_size: int
  eval_steps: np.ndarray
  num_devices: int = 1
  bytes_per_run: int = 0
  shared_bytes: int = 0
  budget_bytes: int = 0

  @property
  def shape(self):
    return tuple(len(v) for _, v in self.axes)

  @property
  def traced_shape(self):
    return tuple(len(self.axes[i][1]) for i in self.traced)

  @property
  def runs_per_group(self):
    return int(np.prod(self.traced_shape, dtype=np.int64))

  @property
  def chunks_per_group(self):
    return -(-self.runs_per_group // self.chunk_size)

  @property
  def num_chunks(self):
    return len(self.groups) * self.chunks_per_group

  @property
  def num_runs(self):
    return len(self.groups) * self.runs_per_group

  @property
  def batch_size(self):
    """Runs per kernel call: the chunk padded to a multiple of the device count."""
    return -(-self.chunk_size // self.num_devices) * self.num_devices

  @property
  def num_kernels(self):
    return len({g.kernel_id for g in self.groups})

  def chunk(self, chunk_id):
    """(group, flat traced indices) of a chunk."""
    group = self.groups[chunk_id // self.chunks_per_group]
    start = (chunk_id % self.chunks_per_group) * self.chunk_size
    return group, np.arange(start, min(start + self.chunk_size, self.runs_per_group))

  def grid_index(self, group, traced_flat):
    """Flat positions in the full grid of a group's traced runs."""
    index = [None] * len(self.axes)
    for pos, idx in zip(self.traced, np.unravel_index(traced_flat, self.traced_shape)):
      index[pos] = idx
    for pos, idx in group.fixed.items():
      index[pos] = np.full(len(traced_flat), idx)
    return np.ravel_multi_index(index, self.shape)

  def describe(self):
    names = [name for name, _ in self.axes]
    traced = [names[i] for i in self.traced]
    looped = [n for i, n in enumerate(names) if i not in self.traced]
    gb = lambda b: f'{b / 1e9:.3g} GB'
    return '\n'.join([
        f'grid {dict(zip(names, self.shape))}: {self.num_runs:,} runs of {self.config.train.steps:,} steps',
        f'vmapped axes {traced}; looped in Python {looped} ({self.num_kernels} compiled kernel(s), '
        f'{len(self.groups)} group(s) with their own data)',
        f'{self.num_chunks:,} chunk(s) of {self.chunk_size:,} runs over {self.num_devices} device(s); '
        f'estimated {self.bytes_per_run / 1e6:.3g} MB per run, {gb(self.shared_bytes)} shared data, '
        f'budget {gb(self.budget_bytes)} per device',
    ])


def _data_bytes(config):
  task = tasks.make_task(config.task)
  row = tasks.input_dim(task) * np.dtype(task.x_dtype).itemsize + 8
  return row * (hparams.pool_size(config) + config.task.test_size)


def _budget(config, memory_budget):
  if memory_budget:
    return memory.parse_bytes(memory_budget)
  if config.engine.memory_budget:
    return memory.parse_bytes(config.engine.memory_budget)
  return memory.default_budget(config.engine.memory_fraction)


def make_plan(config, chunk_size=None, memory_budget=None, num_devices=None):
  """Validates the config and cuts its grid into chunks that fit the memory budget."""
  config_lib.validate(config)
  axes = config_lib.sweep_axes(config)
  names = [name for name, _ in axes]
  static = [i for i, name in enumerate(names) if config_lib.is_static_axis(config, name)]
  seed_axis = names.index('data_seed') if 'data_seed' in names else None
  traced = [i for i in range(len(axes)) if i not in static and i != seed_axis]
  groups, concretes = [], []
  static_ranges = [range(len(axes[i][1])) for i in static]
  for kernel_id, static_index in enumerate(itertools.product(*static_ranges)):
    point = {names[i]: axes[i][1][j] for i, j in zip(static, static_index)}
    concrete = config_lib.concrete_config(config, point)
    concretes.append(concrete)
    fixed = dict(zip(static, static_index))
    seeds = axes[seed_axis][1] if seed_axis is not None else [config.hp.data_seed]
    for j, seed in enumerate(seeds):
      where = dict(fixed, **({seed_axis: j} if seed_axis is not None else {}))
      groups.append(Group(concrete, where, int(seed), kernel_id))
  num_devices = num_devices or jax.local_device_count()
  per_run = max(memory.total_bytes_per_run(c) for c in concretes)
  shared = max(_data_bytes(c) for c in concretes)
  budget = _budget(config, memory_budget)
  runs_per_group = int(np.prod([len(axes[i][1]) for i in traced], dtype=np.int64))
  size = chunk_size or config.engine.chunk_size
  if not size:
    cap = config.engine.max_chunk_size
    if jax.local_devices()[0].platform == 'cpu':
      cap = min(cap, min(memory.cpu_runs_per_device(c) for c in concretes) * num_devices)
    size = memory.choose_chunk_size(per_run, budget, shared, runs_per_group, num_devices, cap)
  return Plan(config, axes, traced, groups, int(size), train.eval_steps(config), num_devices,
              per_run, shared, budget)


class Executor:
  """Compiles each static point's kernel once and runs chunks of the plan on all local devices."""

  def __init__(self, plan):
    self.plan = plan
    devices = np.asarray(jax.local_devices()[:plan.num_devices])
    mesh = Mesh(devices, ('runs',))
    self._runs = NamedSharding(mesh, PartitionSpec('runs'))
    self._replicated = NamedSharding(mesh, PartitionSpec())
    self._kernels = {}
    self._data = {}
    self.compile_count = 0
    self.compile_seconds = 0.0
    self.compiled_peak_bytes = {}

  def _kernel(self, group, hp, data):
    if group.kernel_id not in self._kernels:
      start = time.perf_counter()
      run = train.make_run(group.config, hparams.pool_size(group.config))
      kernel = jax.jit(jax.vmap(run, in_axes=(0, None)), in_shardings=(self._runs, self._replicated),
                       out_shardings=self._runs)
      compiled = kernel.lower(hp, data).compile()
      self.compile_seconds += time.perf_counter() - start
      self.compile_count += 1
      stats = compiled.memory_analysis()
      peak = getattr(stats, 'peak_memory_in_bytes', 0) if stats is not None else 0
      self.compiled_peak_bytes[group.kernel_id] = peak
      log.info('compiled kernel %d in %.1f s; XLA peak %.3g GB per device (estimate %.3g GB)',
               group.kernel_id, time.perf_counter() - start, peak / 1e9, self.estimated_peak_bytes / 1e9)
      self._kernels[group.kernel_id] = compiled
    return self._kernels[group.kernel_id]

  @property
  def estimated_peak_bytes(self):
    plan = self.plan
    return plan.shared_bytes + plan.bytes_per_run * plan.batch_size // plan.num_devices

  def _group_data(self, group):
    key = (group.kernel_id, group.data_seed)
    if key not in self._data:
      task = tasks.make_task(group.config.task)
      pool = hparams.pool_size(group.config)
      stacked = data_lib.build_data(task, pool, group.config.task.test_size, [group.data_seed],
                                    group.config.data.debias)
      data = jax.device_put(data_lib.select_seed(stacked, 0), self._replicated)
      self._data = {key: data}  # one data seed resident at a time
    return self._data[key]

  def chunk_hp(self, group, traced_flat):
    """The hp dict of a chunk, padded to the kernel's batch by repeating its last run."""
    plan = self.plan
    padded = np.concatenate([traced_flat, np.full(plan.batch_size - len(traced_flat), traced_flat[-1])])
    axis_index = dict(zip(plan.traced, np.unravel_index(padded, plan.traced_shape)))
    traced_names = {plan.axes[pos][0]: pos for pos in plan.traced}
    hp = {}
    for key, (source, convert) in hparams.run_hp_sources(group.config).items():
      if source in traced_names:
        pos = traced_names[source]
        table = np.stack([convert(v) for v in plan.axes[pos][1]])
        hp[key] = table[axis_index[pos]]
      else:
        value = convert(group.config.hp[source] if source else None)
        hp[key] = np.broadcast_to(value, (plan.batch_size,) + np.shape(value))
    return hp

  def run_chunk(self, chunk_id):
    """({metric: [runs in chunk, E]}, flat grid positions) of one chunk."""
    group, traced_flat = self.plan.chunk(chunk_id)
    data = self._group_data(group)
    hp = jax.device_put(self.chunk_hp(group, traced_flat), self._runs)
    metrics = jax.device_get(self._kernel(group, hp, data)(hp, data))
    n = len(traced_flat)
    return {k: np.asarray(v[:n]) for k, v in metrics.items()}, self.plan.grid_index(group, traced_flat)


def new_grid(plan, metrics):
  """NaN-filled flat result arrays for the metric names of a first chunk."""
  size = int(np.prod(plan.shape))
  return {name: np.full((size, len(plan.eval_steps)), np.nan, np.float32) for name in metrics}


def shaped(plan, flat):
  return {k: v.reshape(plan.shape + (len(plan.eval_steps),)) for k, v in flat.items()}


def run_sweep(config, chunk_size=None):
  """Runs every chunk in memory; returns (plan, {metric: [*grid shape, E]})."""
  plan = make_plan(config, chunk_size)
  executor = Executor(plan)
  results = {}
  for chunk_id in range(plan.num_chunks):
    metrics, where = executor.run_chunk(chunk_id)
    for name, value in metrics.items():
      results.setdefault(name, new_grid(plan, [name])[name])[where] = value
  return plan, shaped(plan, results)
