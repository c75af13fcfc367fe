"""The sweep engine: a config's grid as a few compiled, vmapped kernels.

The grid is the product of the config's sweep axes. Static axes (and the data seed) are
looped in Python; every other axis is flattened and cut into fixed-size chunks, each one
call of `jit(vmap(run))`. A static point compiles once; data seeds reuse its kernel.
"""

import dataclasses
import itertools
import logging
import time

import jax
import numpy as np

from sslgap import config as config_lib
from sslgap import data as data_lib
from sslgap import hparams
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
  """The whole sweep cut into chunks; everything derives from the config."""

  config: object
  axes: list  # [(name, values)]
  traced: list  # positions of vmapped axes
  groups: list
  chunk_size: int
  eval_steps: np.ndarray

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


def make_plan(config, chunk_size=None):
  config_lib.validate(config)
  axes = config_lib.sweep_axes(config)
  names = [name for name, _ in axes]
  static = [i for i, name in enumerate(names) if config_lib.is_static_axis(config, name)]
  seed_axis = names.index('data_seed') if 'data_seed' in names else None
  traced = [i for i in range(len(axes)) if i not in static and i != seed_axis]
  for i in static:
    log.info('axis %s is static (it sets shapes): one compile per value', names[i])
  groups = []
  static_ranges = [range(len(axes[i][1])) for i in static]
  for kernel_id, static_index in enumerate(itertools.product(*static_ranges)):
    point = {names[i]: axes[i][1][j] for i, j in zip(static, static_index)}
    concrete = config_lib.concrete_config(config, point)
    fixed = dict(zip(static, static_index))
    seeds = axes[seed_axis][1] if seed_axis is not None else [config.hp.data_seed]
    for j, seed in enumerate(seeds):
      groups.append(Group(concrete, dict(fixed, **({seed_axis: j} if seed_axis is not None else {})),
                          int(seed), kernel_id))
  runs_per_group = int(np.prod([len(axes[i][1]) for i in traced], dtype=np.int64))
  size = chunk_size or config.engine.chunk_size or min(runs_per_group, config.engine.max_chunk_size)
  return Plan(config, axes, traced, groups, int(size), train.eval_steps(config))


class Executor:
  """Compiles each static point's kernel once and runs chunks of the plan."""

  def __init__(self, plan):
    self.plan = plan
    self._kernels = {}
    self._data = {}
    self.compile_count = 0
    self.compile_seconds = 0.0

  def _kernel(self, group):
    if group.kernel_id not in self._kernels:
      pool = hparams.pool_size(group.config)
      run = train.make_run(group.config, pool)
      self._kernels[group.kernel_id] = (jax.jit(jax.vmap(run, in_axes=(0, None))), pool)
    return self._kernels[group.kernel_id]

  def _group_data(self, group, pool):
    key = (group.kernel_id, group.data_seed)
    if key not in self._data:
      task = tasks.make_task(group.config.task)
      stacked = data_lib.build_data(task, pool, group.config.task.test_size, [group.data_seed])
      self._data = {key: data_lib.select_seed(stacked, 0)}  # keep one data seed resident
    return self._data[key]

  def chunk_hp(self, group, traced_flat):
    """The hp dict of a chunk, padded to the chunk size by repeating its last run."""
    plan = self.plan
    padded = np.concatenate([traced_flat, np.full(plan.chunk_size - len(traced_flat), traced_flat[-1])])
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
        hp[key] = np.broadcast_to(value, (plan.chunk_size,) + np.shape(value))
    return hp

  def run_chunk(self, chunk_id):
    """{metric: [runs in chunk, E]} for one chunk, and its flat grid positions."""
    group, traced_flat = self.plan.chunk(chunk_id)
    kernel, pool = self._kernel(group)
    data = self._group_data(group, pool)
    hp = self.chunk_hp(group, traced_flat)
    before = kernel._cache_size()
    start = time.perf_counter()
    metrics = jax.device_get(kernel(hp, data))
    if kernel._cache_size() > before:
      self.compile_count += 1
      self.compile_seconds += time.perf_counter() - start
    n = len(traced_flat)
    return {k: np.asarray(v[:n]) for k, v in metrics.items()}, self.plan.grid_index(group, traced_flat)


def run_sweep(config, chunk_size=None, progress=False):
  """Runs every chunk in memory; returns (plan, {metric: [*grid shape, E]})."""
  plan = make_plan(config, chunk_size)
  executor = Executor(plan)
  results = {}
  chunks = range(plan.num_chunks)
  if progress:
    from tqdm import tqdm
    chunks = tqdm(chunks, unit='chunk')
  for chunk_id in chunks:
    metrics, where = executor.run_chunk(chunk_id)
    for name, value in metrics.items():
      if name not in results:
        results[name] = np.full((int(np.prod(plan.shape)), len(plan.eval_steps)), np.nan, np.float32)
      results[name][where] = value
  shaped = {k: v.reshape(plan.shape + (len(plan.eval_steps),)) for k, v in results.items()}
  return plan, shaped
