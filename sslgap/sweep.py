"""The sweep engine: a config's grid as a few compiled, vmapped kernels.

The grid is the product of the config's sweep axes. Static axes (and the data seed) are
looped in Python; every other axis is flattened and cut into fixed-size chunks, each one
call of `jit(vmap(run))` with its run axis sharded over the local devices. A static point
compiles once; data seeds reuse its kernel. A run's result depends only on its grid point,
so a chunk that runs out of device memory is simply run in halves, and the runs still
missing from a folder can be cut into chunks of another size (a replan).
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
from sslgap import spec as spec_lib
from sslgap import tasks
from sslgap import train

log = logging.getLogger('sslgap')


@dataclasses.dataclass
class Group:
  """Runs that share one compiled kernel and one data seed."""

  config: object  # the concrete config of the static point (its hp values for the chunks' inputs)
  spec: object  # its run spec (sslgap.spec): all that compiling and running it reads
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
  device: dict = dataclasses.field(default_factory=dict)  # {'kind', 'platform', 'count'} planned for
  measured: dict = None  # XLA's {'fixed', 'per_run'} bytes per device, where it was measured
  layout: tuple = None  # (group index [C], offsets [C + 1], traced runs): explicit chunks of a replan

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
    if self.layout is not None:
      return len(self.layout[0])
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
    if self.layout is not None:
      group_index, offsets, runs = self.layout
      return self.groups[int(group_index[chunk_id])], runs[offsets[chunk_id]:offsets[chunk_id + 1]]
    group = self.groups[chunk_id // self.chunks_per_group]
    start = (chunk_id % self.chunks_per_group) * self.chunk_size
    return group, np.arange(start, min(start + self.chunk_size, self.runs_per_group))

  def kernel_of(self, chunk_id):
    return self.chunk(chunk_id)[0].kernel_id

  def with_layout(self, layout):
    """This plan with explicit chunks (a replan's), sized self.chunk_size."""
    return dataclasses.replace(self, layout=layout)

  def layout_of_missing(self, done):
    """Explicit chunks of self.chunk_size over the runs not yet `done` ([total] bool grid mask)."""
    group_index, offsets, runs = [], [0], []
    for g, group in enumerate(self.groups):
      traced = np.arange(self.runs_per_group)
      missing = traced[~done[self.grid_index(group, traced)]]
      for start in range(0, missing.size, self.chunk_size):
        piece = missing[start:start + self.chunk_size]
        group_index.append(g)
        runs.extend(piece.tolist())
        offsets.append(len(runs))
    return (np.asarray(group_index, np.int64), np.asarray(offsets, np.int64), np.asarray(runs, np.int64))

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
    device = self.device or {}
    lines = [
        f'grid {dict(zip(names, self.shape))}: {self.num_runs:,} runs of {self.config.train.steps:,} steps',
        f'vmapped axes {traced}; looped in Python {looped} ({self.num_kernels} compiled kernel(s), '
        f'{len(self.groups)} group(s) with their own data)',
        f'{self.num_chunks:,} chunk(s) of {self.chunk_size:,} runs over {self.num_devices} device(s) '
        f'({device.get("kind", "?")}); budget {gb(self.budget_bytes)} per device',
        f'memory per device: formula {self.bytes_per_run / 1e6:.3g} MB per run + {gb(self.shared_bytes)} shared data',
    ]
    if self.measured:
      lines[-1] += (f'; XLA (measured) {self.measured["per_run"] / 1e6:.3g} MB per run + '
                    f'{gb(self.measured["fixed"])} fixed (chunk size from XLA\'s figure)')
    return '\n'.join(lines)


def _data_bytes(spec):
  row = tasks.input_dim(spec.task) * np.dtype(spec.task.x_dtype).itemsize + 8
  return row * (spec.pool_size + spec.test_size)


def _budget(config, memory_budget, device):
  if memory_budget:
    return memory.parse_bytes(memory_budget)
  if config.engine.memory_budget:
    return memory.parse_bytes(config.engine.memory_budget)
  return memory.default_budget(config.engine.memory_fraction, device)


def this_device(num_devices=None):
  device = jax.local_devices()[0]
  return {'kind': device.device_kind, 'platform': device.platform, 'count': num_devices or jax.local_device_count(),
          'memory': memory.device_memory_bytes(device)}


def make_plan(config, chunk_size=None, memory_budget=None, num_devices=None, device=None):
  """Validates the config and cuts its grid into chunks that fit the memory budget.

  device: plan for another device ({'kind', 'platform', 'count', 'memory'}, see
  memory.named_device) instead of this machine's; its chunk size comes from the formula.
  """
  config_lib.validate(config)
  axes = config_lib.sweep_axes(config)
  names = [name for name, _ in axes]
  static = [i for i, name in enumerate(names) if config_lib.is_static_axis(config, name)]
  seed_axis = names.index('data_seed') if 'data_seed' in names else None
  traced = [i for i in range(len(axes)) if i not in static and i != seed_axis]
  groups, specs = [], []
  static_ranges = [range(len(axes[i][1])) for i in static]
  for kernel_id, static_index in enumerate(itertools.product(*static_ranges)):
    point = {names[i]: axes[i][1][j] for i, j in zip(static, static_index)}
    concrete = config_lib.concrete_config(config, point)
    specs.append(spec_lib.derive(concrete))
    fixed = dict(zip(static, static_index))
    seeds = axes[seed_axis][1] if seed_axis is not None else [config.hp.data_seed]
    for j, seed in enumerate(seeds):
      where = dict(fixed, **({seed_axis: j} if seed_axis is not None else {}))
      groups.append(Group(concrete, specs[-1], where, int(seed), kernel_id))
  device = dict(device or this_device(num_devices))
  num_devices = device['count']
  per_run = max(memory.total_bytes_per_run(s) for s in specs)
  shared = max(_data_bytes(s) for s in specs)
  budget = _budget(config, memory_budget, device)
  runs_per_group = int(np.prod([len(axes[i][1]) for i in traced], dtype=np.int64))
  size = chunk_size or config.engine.chunk_size
  plan = Plan(config, axes, traced, groups, 0, specs[0].eval_steps, num_devices, per_run, shared, budget, device)
  if size:
    return dataclasses.replace(plan, chunk_size=int(size))
  cap = config.engine.max_chunk_size
  if device['platform'] == 'cpu':
    cap = min(cap, min(memory.cpu_runs_per_device(s, config.engine.cpu_cache_bytes) for s in specs) * num_devices)
  size = memory.choose_chunk_size(per_run, budget, shared, runs_per_group, num_devices, cap)
  plan = dataclasses.replace(plan, chunk_size=int(size))
  if _measures_memory(config, device):
    measured = measure_memory(plan)
    size = memory.choose_chunk_size_measured(measured, budget, runs_per_group, num_devices, cap)
    plan = dataclasses.replace(plan, chunk_size=int(size), measured=measured)
  return plan


def _measures_memory(config, device):
  """XLA's memory analysis sizes chunks on this machine's accelerators (engine.memory_model)."""
  model = config.engine.memory_model
  if model == 'formula' or device.get('kind') != this_device()['kind']:
    return False
  return model == 'measured' or device['platform'] != 'cpu'


def measure_memory(plan, kernel_ids=None, widths=(64, 128)):
  """XLA's bytes per device, fitted as fixed + per run to each kernel compiled at two chunk widths
  (runs per device): {'fixed', 'per_run'} of the largest, and 'per_kernel' {kernel id: fit}."""
  executor = Executor(plan)
  per_kernel = {}
  for group in {g.kernel_id: g for g in plan.groups}.values():
    if kernel_ids is None or group.kernel_id in kernel_ids:
      points = [(w, memory.compiled_bytes(executor.compile(group, w * plan.num_devices))) for w in widths]
      fixed, per_run = memory.fit_fixed_and_per_run(*points[0], *points[1])
      per_kernel[group.kernel_id] = {'fixed': fixed, 'per_run': per_run}
  return {'fixed': max(f['fixed'] for f in per_kernel.values()),
          'per_run': max(f['per_run'] for f in per_kernel.values()), 'per_kernel': per_kernel}

def is_out_of_memory(error):
  return isinstance(error, jax.errors.JaxRuntimeError) and 'RESOURCE_EXHAUSTED' in str(error)


def _execute(compiled, hp, data):
  """One kernel call (a seam for tests that inject device errors)."""
  return compiled(hp, data)


class Executor:
  """Compiles each static point's kernel once per chunk width and runs chunks on all local devices.

  A chunk that runs out of device memory is run in halves (and every later chunk of that
  kernel at the smaller width); its results do not change, since a run's result depends only
  on its grid point.
  """

  def __init__(self, plan):
    self.plan = plan
    devices = np.asarray(jax.local_devices()[:plan.num_devices])
    mesh = Mesh(devices, ('runs',))
    self._runs = NamedSharding(mesh, PartitionSpec('runs'))
    self._replicated = NamedSharding(mesh, PartitionSpec())
    self._kernels = {}
    self._width = {}  # kernel id -> runs per call, once a chunk ran out of memory
    self._data = {}
    self.compile_count = 0
    self.compile_seconds = 0.0
    self.compiled_peak_bytes = {}
    self.splits = 0

  def _abstract_data(self, group):
    return jax.eval_shape(lambda: data_lib.select_seed(spec_lib.data_for(group.spec, [0]), 0))

  def compile(self, group, width):
    """The compiled kernel of group's static point for `width` runs per call (a device multiple)."""
    key = (group.kernel_id, width)
    if key not in self._kernels:
      start = time.perf_counter()
      run = train.make_run(group.spec)
      kernel = jax.jit(jax.vmap(run, in_axes=(0, None)), in_shardings=(self._runs, self._replicated),
                       out_shardings=self._runs)
      hp = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                  self.chunk_hp(group, np.zeros(1, np.int64), width))
      with jax.default_matmul_precision(group.spec.matmul_precision):  # a trace-time setting
        compiled = kernel.lower(hp, self._abstract_data(group)).compile()
      seconds = time.perf_counter() - start
      self.compile_seconds += seconds
      self.compile_count += 1
      self.compiled_peak_bytes[key] = memory.compiled_bytes(compiled)
      log.info('compiled kernel %d for %d runs per call in %.1f s; XLA %.4g MB per device (formula %.4g MB)',
               group.kernel_id, width, seconds, self.compiled_peak_bytes[key] / 1e6,
               self.estimated_peak_bytes(width) / 1e6)
      self._kernels[key] = compiled
    return self._kernels[key]

  def estimated_peak_bytes(self, width=None):
    plan = self.plan
    return plan.shared_bytes + plan.bytes_per_run * (width or plan.batch_size) // plan.num_devices

  def _group_data(self, group):
    key = (group.kernel_id, group.data_seed)
    if key not in self._data:
      stacked = spec_lib.data_for(group.spec, [group.data_seed])
      data = jax.device_put(data_lib.select_seed(stacked, 0), self._replicated)
      self._data = {key: data}  # one data seed resident at a time
    return self._data[key]

  def chunk_hp(self, group, traced_flat, width=None):
    """The hp dict of some runs of a group, padded to `width` runs by repeating the last one."""
    plan = self.plan
    width = width or plan.batch_size
    padded = np.concatenate([traced_flat, np.full(width - len(traced_flat), traced_flat[-1])])
    axis_index = dict(zip(plan.traced, np.unravel_index(padded, plan.traced_shape)))
    traced_names = {plan.axes[pos][0]: pos for pos in plan.traced}
    hp = {}
    for path, (source, convert) in hparams.run_hp_sources(group.config).items():
      if source in traced_names:
        pos = traced_names[source]
        table = np.stack([convert(v) for v in plan.axes[pos][1]])
        hp[path] = table[axis_index[pos]]
      else:
        value = convert(group.config.hp[source] if source else None)
        hp[path] = np.broadcast_to(value, (width,) + np.shape(value))
    return hparams.nest(hp)

  def prepare(self, chunk_id):
    """Builds the chunk's data and compiles its kernel, so that running it measures the run alone."""
    group, _ = self.plan.chunk(chunk_id)
    self._group_data(group)
    self.compile(group, self._width.get(group.kernel_id, self.plan.batch_size))

  def _call(self, group, runs, data, width):
    hp = jax.device_put(self.chunk_hp(group, runs, width), self._runs)
    metrics = jax.device_get(_execute(self.compile(group, width), hp, data))
    return {k: np.asarray(v[:len(runs)]) for k, v in metrics.items()}

  def run_chunk(self, chunk_id):
    """({metric: [runs in chunk, E]}, flat grid positions) of one chunk."""
    group, traced_flat = self.plan.chunk(chunk_id)
    data = self._group_data(group)
    devices = self.plan.num_devices
    pieces, done = [traced_flat], []
    while pieces:
      runs = pieces.pop(0)
      width = self._width.get(group.kernel_id, self.plan.batch_size)
      if len(runs) > width:
        pieces = [runs[i:i + width] for i in range(0, len(runs), width)] + pieces
        continue
      try:
        done.append(self._call(group, runs, data, width))
      except Exception as error:  # noqa: BLE001 - only out-of-memory errors are retried
        if not is_out_of_memory(error) or width <= devices:
          raise
        half = -(-(width // 2) // devices) * devices
        log.warning('chunk %d ran out of device memory at %d runs per call; running it (and later chunks of '
                    'kernel %d) %d runs at a time', chunk_id, width, group.kernel_id, half)
        self._width[group.kernel_id] = half
        self.splits += 1
        pieces.insert(0, runs)
    metrics = {k: np.concatenate([d[k] for d in done]) for k in done[0]}
    return metrics, self.plan.grid_index(group, traced_flat)


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
