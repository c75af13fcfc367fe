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

from sslgap.base import backend
from sslgap.folder import chunking
from sslgap.setup import config as config_lib
from sslgap.training import data as data_lib
from sslgap.base import hparams
from sslgap.engine import memory
from sslgap.engine import rehearse
from sslgap.setup import spec as spec_lib
from sslgap import tasks
from sslgap.training import train
from sslgap.errors import ConfigError, OptionError, UserError
from sslgap.version import __version__

log = logging.getLogger('sslgap')
LARGE_GRID_RUNS = 10**8  # from here the plan says what the grid will cost before anything runs


@dataclasses.dataclass
class Subgrid:
  """Runs that share one compiled kernel and one data seed."""

  config: object  # the concrete config of the static point (its hp values for the chunks' inputs)
  spec: object  # its run spec (sslgap.spec): all that compiling and running it reads
  fixed: dict  # axis position -> value index, for static axes and the data seed
  data_seed: int
  kernel_id: int


@dataclasses.dataclass
class Plan:
  """The whole sweep cut into chunks; everything derives from the config, the chunk size and the
  call width.

  A chunk (the unit of files, resume and shards) holds chunk_size runs; the kernel runs them
  call_width at a time, the last call padded. The call width is the engine's (memory, cache,
  device count), never the chunk size's, so that a run's numbers do not depend on how many runs
  a chunk holds: XLA may order a reduction differently at another batch width."""

  config: object
  axes: list  # [(name, values)]
  subgrids: list  # Subgrid per static point and data seed, in the order of chunks.subgrids
  chunks: chunking.ChunkLayout  # which runs each chunk holds
  eval_steps: np.ndarray
  num_devices: int = 1
  call_width: int = 0  # runs per kernel call, a multiple of num_devices
  bytes_per_run: int = 0
  shared_bytes: int = 0
  budget_bytes: int = 0
  device: dict = dataclasses.field(default_factory=dict)  # {'kind', 'platform', 'count'} planned for
  measured: dict = None  # XLA's {'fixed', 'per_run'} bytes per device, where it was measured

  @property
  def shape(self):
    return tuple(len(v) for _, v in self.axes)

  @property
  def traced(self):
    return list(self.chunks.traced)

  @property
  def traced_shape(self):
    return self.chunks.traced_shape

  @property
  def chunk_size(self):
    return self.chunks.chunk_size

  @property
  def layout(self):
    """A replan's explicit chunks, or None."""
    return self.chunks.explicit

  @property
  def runs_per_subgrid(self):
    return self.chunks.runs_per_subgrid

  @property
  def chunks_per_subgrid(self):
    return self.chunks.chunks_per_subgrid

  @property
  def num_chunks(self):
    return self.chunks.num_chunks

  @property
  def num_runs(self):
    return self.chunks.num_runs

  @property
  def num_kernels(self):
    return len({g.kernel_id for g in self.subgrids})

  def chunk(self, chunk_id):
    """(subgrid, flat traced indices) of a chunk."""
    subgrid, runs = self.chunks.chunk(chunk_id)
    return self.subgrids[subgrid], runs

  def kernel_of(self, chunk_id):
    return self.subgrids[self.chunks.subgrid_of(chunk_id)].kernel_id

  def positions(self, chunk_id):
    """Flat grid positions of a chunk's runs."""
    return self.chunks.positions(chunk_id)

  def chunk_counts(self, shard=(0, 1), exclude=()):
    """{kernel id: number of chunks} of one shard, without the chunk ids in `exclude`."""
    counts = {}
    for g, n in self.chunks.subgrid_counts(shard).items():
      kernel = self.subgrids[g].kernel_id
      counts[kernel] = counts.get(kernel, 0) + n
    for chunk_id in exclude:
      if chunk_id % shard[1] == shard[0] and chunk_id < self.num_chunks:
        counts[self.kernel_of(chunk_id)] -= 1
    return counts

  def shard_runs(self, shard=(0, 1), exclude=()):
    """How many runs the chunks of a shard hold, without the chunk ids in `exclude`."""
    mine = [c for c in exclude if c % shard[1] == shard[0] and c < self.num_chunks]
    return self.chunks.shard_runs(shard) - sum(self.chunks.size_of(c) for c in mine)

  def kernel_chunks(self, kernel_id, shard=(0, 1)):
    """The chunk ids of one kernel in a shard, in order, one at a time."""
    subgrids = [g for g, subgrid in enumerate(self.subgrids) if subgrid.kernel_id == kernel_id]
    if self.layout is None:
      for g in subgrids:
        yield from self.chunks.subgrid_chunks(g, shard)
      return
    ids = np.arange(shard[0], self.num_chunks, shard[1])
    yield from (int(c) for c in ids[np.isin(np.asarray(self.layout[0])[ids], subgrids)])

  def shard_chunks(self, shard=(0, 1)):
    """The chunk ids of a shard, in order, one at a time (never a list of every chunk)."""
    return iter(range(shard[0], self.num_chunks, shard[1]))

  def with_chunk_size(self, chunk_size):
    return dataclasses.replace(self, chunks=self.chunks.with_chunks(chunk_size))

  def with_layout(self, layout):
    """This plan with explicit chunks (a replan's), sized self.chunk_size."""
    return dataclasses.replace(self, chunks=self.chunks.with_chunks(self.chunk_size, layout))

  def config_json(self):
    """The config as its folder's plan and its grid record it."""
    return config_lib.to_json(self.config)

  def info(self):
    """What the grid records about the software and device that computed it."""
    return dict(sslgap_version=__version__, jax_version=jax.__version__, device_kind=jax.devices()[0].device_kind)

  def examples_grid(self):
    """The grid's compute axis: examples processed by each eval step ([*axis sizes or 1, E]), from each
    subgrid's run spec."""
    return self.chunks.looped_grid([g.spec.examples_seen(self.eval_steps) for g in self.subgrids])

  def layout_of_missing(self, done):
    """Explicit chunks of self.chunk_size over the runs not yet `done` ([total] bool grid mask)."""
    return self.chunks.of_missing(done)

  def describe(self):
    names = [name for name, _ in self.axes]
    traced = [names[i] for i in self.traced]
    looped = [n for i, n in enumerate(names) if i not in self.traced]
    gb = lambda b: f'{b / 1e9:.3g} GB'
    device = self.device or {}
    lines = [
        f'grid {dict(zip(names, self.shape))}: {self.num_runs:,} runs of {self.config.train.steps:,} steps',
        f'vmapped axes {traced}; looped in Python {looped} ({self.num_kernels} compiled kernel(s), '
        f'{len(self.subgrids)} subgrid(s) with their own data)',
        f'{self.num_chunks:,} chunk(s) of {self.chunk_size:,} runs over {self.num_devices} device(s) '
        f'({device.get("kind", "?")}), {self.call_width:,} runs per kernel call; budget {gb(self.budget_bytes)} '
        'per device',
        f'memory per device: formula {self.bytes_per_run / 1e6:.3g} MB per run + {gb(self.shared_bytes)} shared data',
    ]
    if self.measured:
      lines[-1] += (f'; XLA (measured) {self.measured["per_run"] / 1e6:.3g} MB per run + '
                    f'{gb(self.measured["fixed"])} fixed (call width from XLA\'s figure)')
    segmented = {}
    for kernel, spec in sorted({g.kernel_id: g.spec for g in self.subgrids}.items()):
      per = segment_intervals(self, spec, self.call_width) if self.call_width else 0
      if per:
        total = spec.train.steps // spec.train.eval_every
        seconds = predicted_segment_seconds(self, spec, self.call_width)
        minutes, weight = checkpoint_minutes(self.config, spec, self.call_width)
        text = (f'segments of {per} of {total} evaluation intervals (about {seconds:.3g} s each, predicted), a '
                f'checkpoint of {weight / 1e6:.3g} MB per call every {minutes:.3g} min'
                + (f' (engine.checkpoint_minutes {self.config.engine.checkpoint_minutes:g} stretched: over '
                   f'engine.checkpoint_budget {self.config.engine.checkpoint_budget})'
                   if minutes > self.config.engine.checkpoint_minutes else ''))
        segmented.setdefault(text, []).append(kernel)
    for text, kernels in segmented.items():
      lines.append(f'kernel{"s" if len(kernels) > 1 else ""} {", ".join(map(str, kernels))}: {text}')
    if self.num_runs >= LARGE_GRID_RUNS:
      lines.append(f'a large grid: its merged .npz will hold {gb(self.grid_bytes)} of metrics; rehearse it first '
                   '(--max_chunks=1) for its projected time, and watch it with python -m sslgap.status')
    return '\n'.join(lines)

  @property
  def grid_bytes(self):
    """Bytes of the merged grid's metrics (float32, every run and evaluation)."""
    metrics = max(len(g.spec.metric_names) for g in self.subgrids)
    return 4 * self.num_runs * len(self.eval_steps) * metrics


def segment_intervals(plan, spec, width):
  """Evaluation intervals per segment of a call of `width` runs (0: the whole run in one call):
  engine.segment_intervals, else as many as fit engine.segment_seconds at the predicted rate, in
  segments of equal length (one compiled segment kernel, and at most one shorter)."""
  total = spec.train.steps // spec.train.eval_every
  if spec.trains_itself or total <= 1:
    return 0
  engine = plan.config.engine
  per = engine.segment_intervals
  if not per:
    seconds = predicted_call_seconds(plan, spec, width)
    per = max(1, int(total * engine.segment_seconds / seconds)) if seconds > 0 else total
  if per >= total:
    return 0
  return -(-total // -(-total // per))


def predicted_call_seconds(plan, spec, width):
  """Seconds a call of `width` runs should take, from its FLOPs at the device's predicted rate."""
  rate = rehearse.PREDICTED_FLOPS.get(plan.device.get('platform'), rehearse.PREDICTED_FLOPS['gpu'])
  return rehearse.run_flops(spec) * width / (rate * plan.num_devices)


def predicted_sweep_seconds(plan):
  """Seconds the sweep's kernel calls should take on the plan's device, from their FLOPs at its predicted
  rate (rehearse.PREDICTED_FLOPS; padding of a chunk's last call included, compiling not): what a dry run
  says before anything has run. A rehearsal (--max_chunks) measures it instead."""
  chunks, width = plan.chunks, plan.call_width
  calls = lambda runs: -(-runs // width)
  if chunks.explicit is None:
    last = chunks.size_of(chunks.chunks_per_subgrid - 1)
    per_subgrid = (chunks.chunks_per_subgrid - 1) * calls(chunks.chunk_size) + calls(last)
  else:
    per_subgrid = calls(chunks.chunk_size) * chunks.num_chunks / max(len(plan.subgrids), 1)
  return sum(predicted_call_seconds(plan, g.spec, width) * per_subgrid for g in plan.subgrids)


def predicted_segment_seconds(plan, spec, width):
  """Seconds a segment of a call of `width` runs should take (the whole call's, unsegmented)."""
  call = predicted_call_seconds(plan, spec, width)
  per = segment_intervals(plan, spec, width)
  return call * per / (spec.train.steps // spec.train.eval_every) if per else call


def checkpoint_bytes(spec, width):
  """Bytes of a checkpoint of one call: its state (parameters, optimiser slots) and its evaluations."""
  per_run = memory.bytes_per_run(spec)
  return width * (per_run.get('state', 0) // 2 + per_run.get('metrics', 0))


def checkpoint_minutes(config, spec, width):
  """(minutes between a call's checkpoints, their weight in bytes): engine.checkpoint_minutes, longer in
  proportion where a checkpoint weighs more than engine.checkpoint_budget (so that writing them stays
  a small share of the time on any file system)."""
  engine = config.engine
  weight = checkpoint_bytes(spec, width)
  budget = memory.parse_bytes(engine.checkpoint_budget) if engine.checkpoint_budget else 0
  return engine.checkpoint_minutes * max(1.0, weight / budget if budget else 1.0), weight


def _data_bytes(spec):
  row = tasks.input_dim(spec.task) * np.dtype(spec.task.x_dtype).itemsize + 8
  return row * (spec.pool_size + spec.test_size)


def _budget(config, memory_budget, device):
  """(bytes per device, where that number comes from)."""
  if memory_budget:
    try:
      return memory.parse_bytes(memory_budget), 'memory_budget'
    except ValueError as e:
      raise OptionError(f'memory_budget {e}') from None
  if config.engine.memory_budget:
    return memory.parse_bytes(config.engine.memory_budget), 'engine.memory_budget'
  return memory.default_budget(config.engine.memory_fraction, device), 'device'


def _too_small(error, source):
  if source == 'engine.memory_budget':
    return ConfigError(source, f'{error}')
  if source == 'memory_budget':
    return OptionError(f'memory_budget: {error}')
  return OptionError(f'this device\'s memory budget (engine.memory_fraction of it): {error}; set memory_budget')


def this_device(num_devices=None):
  devices = backend.local_devices()
  return {'kind': devices[0].device_kind, 'platform': devices[0].platform, 'count': num_devices or len(devices),
          'memory': memory.device_memory_bytes(devices[0])}


def make_plan(config, chunk_size=None, memory_budget=None, num_devices=None, device=None, call_width=None):
  """Validates the config and cuts its grid into chunks, run call_width runs at a time.

  The call width (runs per kernel call) is the largest that fits the memory budget (and, on a CPU,
  the cache), no more than the runs of a subgrid; `call_width` (or engine.call_width) fixes it. A
  chunk holds chunk_size runs (default: one call's worth), never more than a subgrid has.
  device: plan for another device ({'kind', 'platform', 'count', 'memory'}, see
  memory.named_device) instead of this machine's; its call width comes from the formula.
  """
  check_count(chunk_size, 'chunk_size')
  check_count(call_width, 'call_width')
  if device is None:
    backend.local_devices()  # a platform that will not start is said before anything else
  points = config_lib.checked_points(config)  # validates the whole config first
  axes = config_lib.sweep_axes(config)
  subgrids, traced = _subgrids(config, axes, points)
  specs = list({g.kernel_id: g.spec for g in subgrids}.values())
  device = dict(device or this_device(num_devices))
  budget, source = _budget(config, memory_budget, device)
  chunks = chunking.ChunkLayout(tuple(len(v) for _, v in axes), tuple(traced),
                                tuple(tuple(sorted(g.fixed.items())) for g in subgrids), 1)
  plan = Plan(config, axes, subgrids, chunks, specs[0].eval_steps, device['count'], 0,
              max(memory.total_bytes_per_run(s) for s in specs), max(_data_bytes(s) for s in specs), budget, device)
  try:
    plan, width = _sized_call_width(plan, specs, call_width or config.engine.call_width)
  except memory.TooSmall as e:
    raise _too_small(e, source) from None
  size = min(chunk_size or config.engine.chunk_size or width, plan.runs_per_subgrid)
  return dataclasses.replace(plan.with_chunk_size(size), call_width=int(width))


def _subgrids(config, axes, points):
  """(one Subgrid per static point and data seed, with its run spec derived once; the positions of
  the traced axes). points: config.checked_points(config)."""
  names = [name for name, _ in axes]
  static = [i for i, name in enumerate(names) if config_lib.is_static_axis(config, name)]
  seed_axis = names.index('data_seed') if 'data_seed' in names else None
  traced = [i for i in range(len(axes)) if i not in static and i != seed_axis]
  subgrids = []
  static_ranges = [range(len(axes[i][1])) for i in static]
  for kernel_id, (static_index, point) in enumerate(zip(itertools.product(*static_ranges), points)):
    concrete = point.config
    spec = spec_lib.derive(concrete, point.facts, point.task)
    fixed = dict(zip(static, static_index))
    seeds = axes[seed_axis][1] if seed_axis is not None else [config.hp.data_seed]
    for j, seed in enumerate(seeds):
      where = dict(fixed, **({seed_axis: j} if seed_axis is not None else {}))
      subgrids.append(Subgrid(concrete, spec, where, int(seed), kernel_id))
  return subgrids, traced


def _sized_call_width(plan, specs, fixed_width):
  """(the plan, with XLA's measurement where it measures memory; its runs per kernel call): the
  fixed width rounded to the devices, else the most that fit the budget (and a CPU's cache)."""
  config, device, devices = plan.config, plan.device, plan.num_devices
  if fixed_width:
    return plan, devices * -(-min(fixed_width, plan.runs_per_subgrid) // devices)
  fits = dict(budget=plan.budget_bytes, runs=plan.runs_per_subgrid, num_devices=devices,
              cap=config.engine.max_chunk_size)
  cpu_runs = None
  if device['platform'] == 'cpu':
    cpu_runs = min(memory.cpu_runs_per_device(s, config.engine.cpu_cache_bytes) for s in specs)
  width = memory.runs_per_call(per_run=plan.bytes_per_run, shared=plan.shared_bytes, cpu_runs_per_device=cpu_runs,
                               **fits)
  if _measures_memory(config, device):
    plan = dataclasses.replace(plan, measured=measure_memory(plan))
    width = memory.runs_per_call(measured=plan.measured, cpu_runs_per_device=cpu_runs, **fits)
  return plan, width


def with_examples(results):
  """The grid with its compute axis: as the engine recorded it, or for a grid from before it did,
  derived from the grid's config by the run spec (unchanged if that config no longer plans)."""
  if results.examples is not None:
    return results
  try:
    plan = make_plan(config_lib.from_grid(results.config), chunk_size=1, call_width=1)
  except (UserError, ValueError, KeyError, TypeError):
    return _minibatch_examples(results)
  if plan.shape != results.shape or len(plan.eval_steps) != len(results.eval_steps):
    return _minibatch_examples(results)
  return results.with_examples(plan.examples_grid())


def _minibatch_examples(results):
  """A grid whose config does not plan (written by hand, or by an older sslgap): batch x steps
  when its config says minibatch SGD and names the batch; else unchanged (no compute axis)."""
  config = results.config
  batch = config.get('train', {}).get('batch_size')
  if (config.get('data', {}).get('mode', 'minibatch') != 'minibatch' or not isinstance(batch, int)
      or 'train__batch_size' in results.axis_names):
    return results
  shape = [1] * len(results.axis_names) + [len(results.eval_steps)]
  return results.with_examples((np.asarray(results.eval_steps, float) * batch).reshape(shape))


def check_count(value, name):
  """A count given to the engine (None: its default) must be a positive integer."""
  if value is not None and not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1):
    raise OptionError(f'{name} must be a positive integer, got {value!r}')


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
  for subgrid in {g.kernel_id: g for g in plan.subgrids}.values():
    if kernel_ids is None or subgrid.kernel_id in kernel_ids:
      points = [(w, memory.compiled_bytes(executor.compile(subgrid, w * plan.num_devices))) for w in widths]
      fixed, per_run = memory.fit_fixed_and_per_run(*points[0], *points[1])
      per_kernel[subgrid.kernel_id] = {'fixed': fixed, 'per_run': per_run}
  return {'fixed': max(f['fixed'] for f in per_kernel.values()),
          'per_run': max(f['per_run'] for f in per_kernel.values()), 'per_kernel': per_kernel}

def is_out_of_memory(error):
  return isinstance(error, jax.errors.JaxRuntimeError) and 'RESOURCE_EXHAUSTED' in str(error)


def _execute(compiled, hp, data):
  """One kernel call (a seam for tests that inject device errors)."""
  return compiled(hp, data)


class Executor:
  """Compiles each static point's kernel once for the plan's call width and runs chunks on all local
  devices, call_width runs a call (the last call of a chunk padded by repeating its last run).

  A chunk that runs out of device memory is run at half the width (and every later chunk of that
  kernel too): the same runs, with numbers that may differ in their last bits.
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

  def call_width_of(self, kernel_id):
    """The runs per call this executor computes a kernel's chunks at: the plan's, or half of it after a
    chunk of the kernel ran out of memory."""
    return self._width.get(kernel_id, self.plan.call_width)

  def _abstract_data(self, subgrid):
    return jax.eval_shape(lambda: data_lib.select_seed(spec_lib.data_for(subgrid.spec, [0]), 0))

  def _abstract_hp(self, subgrid, width):
    return jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                  self.chunk_hp(subgrid, np.zeros(1, np.int64), width))

  def abstract_state(self, subgrid, width):
    """The shapes of the state a call of `width` runs carries between its segments."""
    begin, _ = train.make_segments(subgrid.spec)
    return jax.eval_shape(jax.vmap(begin, in_axes=(0, None)), self._abstract_hp(subgrid, width),
                          self._abstract_data(subgrid))[0]

  def state_structure(self, chunk_id):
    """(leaf shapes and dtypes, treedef) of the state of one call of a chunk, for its checkpoints."""
    subgrid, _ = self.plan.chunk(chunk_id)
    return jax.tree_util.tree_flatten(self.abstract_state(subgrid, self.call_width_of(subgrid.kernel_id)))

  def compile(self, subgrid, width):
    """The compiled kernel of subgrid's static point for `width` runs per call (a device multiple)."""
    key = (subgrid.kernel_id, width)
    if key not in self._kernels:
      start = time.perf_counter()
      run = train.make_run(subgrid.spec)
      kernel = jax.jit(jax.vmap(run, in_axes=(0, None)), in_shardings=(self._runs, self._replicated),
                       out_shardings=self._runs)
      hp = self._abstract_hp(subgrid, width)
      with jax.default_matmul_precision(subgrid.spec.train.matmul_precision):  # a trace-time setting
        compiled = kernel.lower(hp, self._abstract_data(subgrid)).compile()
      seconds = time.perf_counter() - start
      self.compile_seconds += seconds
      self.compile_count += 1
      self.compiled_peak_bytes[key] = memory.compiled_bytes(compiled)
      log.info('compiled kernel %d for %d runs per call in %.1f s; XLA %.4g MB per device (formula %.4g MB)',
               subgrid.kernel_id, width, seconds, self.compiled_peak_bytes[key] / 1e6,
               self.estimated_peak_bytes(width) / 1e6)
      self._kernels[key] = compiled
    return self._kernels[key]

  def estimated_peak_bytes(self, width=None):
    plan = self.plan
    return plan.shared_bytes + plan.bytes_per_run * (width or plan.call_width) // plan.num_devices

  def _subgrid_data(self, subgrid):
    key = (subgrid.kernel_id, subgrid.data_seed)
    if key not in self._data:
      stacked = spec_lib.data_for(subgrid.spec, [subgrid.data_seed])
      data = jax.device_put(data_lib.select_seed(stacked, 0), self._replicated)
      self._data = {key: data}  # one data seed resident at a time
    return self._data[key]

  def chunk_hp(self, subgrid, traced_flat, width=None):
    """The hp dict of some runs of a subgrid, padded to `width` runs by repeating the last one."""
    plan = self.plan
    width = width or plan.call_width
    padded = np.concatenate([traced_flat, np.full(width - len(traced_flat), traced_flat[-1])])
    axis_index = dict(zip(plan.traced, np.unravel_index(padded, plan.traced_shape)))
    traced_names = {plan.axes[pos][0]: pos for pos in plan.traced}
    hp = {}
    for path, (source, convert) in subgrid.spec.hp_sources.items():
      if source in traced_names:
        pos = traced_names[source]
        table = np.stack([convert(v) for v in plan.axes[pos][1]])
        hp[path] = table[axis_index[pos]]
      else:
        value = convert(subgrid.config.hp[source] if source else None)
        hp[path] = np.broadcast_to(value, (width,) + np.shape(value))
    return hparams.nest(hp)

  def prepare(self, chunk_id):
    """Builds the chunk's data and compiles the kernels its calls use (the whole run, or its start and
    segments), so that running it measures the run alone."""
    subgrid, _ = self.plan.chunk(chunk_id)
    self._subgrid_data(subgrid)
    width = self.call_width_of(subgrid.kernel_id)
    per = self.segment_intervals(subgrid, width)
    if not per:
      self.compile(subgrid, width)
      return
    total = subgrid.spec.train.steps // subgrid.spec.train.eval_every
    for count in dict.fromkeys((None, per, total % per or per)):  # the start first, as the log reads
      self._compile_segment(subgrid, width, count)

  def _call(self, subgrid, runs, data, width, resume=None, on_boundary=None):
    hp = jax.device_put(self.chunk_hp(subgrid, runs, width), self._runs)
    per = self.segment_intervals(subgrid, width)
    if not per:
      metrics = jax.device_get(_execute(self.compile(subgrid, width), hp, data))
      return {k: np.asarray(v[:len(runs)]) for k, v in metrics.items()}
    return self._segmented(subgrid, runs, hp, data, width, per, resume, on_boundary)

  def segment_intervals(self, subgrid, width):
    return segment_intervals(self.plan, subgrid.spec, width)

  def _compile_segment(self, subgrid, width, count):
    """The compiled begin (count None) or segment-of-`count`-intervals kernel of a subgrid."""
    key = (subgrid.kernel_id, width, 'begin' if count is None else count)
    if key in self._kernels:
      return self._kernels[key]
    start = time.perf_counter()
    begin, segment = train.make_segments(subgrid.spec)
    hp, data = self._abstract_hp(subgrid, width), self._abstract_data(subgrid)
    with jax.default_matmul_precision(subgrid.spec.train.matmul_precision):
      if count is None:
        kernel = jax.jit(jax.vmap(begin, in_axes=(0, None)), in_shardings=(self._runs, self._replicated),
                         out_shardings=self._runs)
        compiled = kernel.lower(hp, data).compile()
      else:
        state = self.abstract_state(subgrid, width)
        kernel = jax.jit(jax.vmap(segment(count), in_axes=(0, None, 0, None)),
                         in_shardings=(self._runs, self._replicated, self._runs, self._replicated),
                         out_shardings=self._runs)
        compiled = kernel.lower(hp, data, state, jax.ShapeDtypeStruct((), np.int32)).compile()
    seconds = time.perf_counter() - start
    self.compile_seconds += seconds
    self.compile_count += 1
    log.info('compiled kernel %d\'s %s for %d runs per call in %.1f s', subgrid.kernel_id,
             'start' if count is None else f'segment of {count} evaluation interval(s)', width, seconds)
    self._kernels[key] = compiled
    return compiled

  def _segmented(self, subgrid, runs, hp, data, width, per, resume, on_boundary):
    """A call computed a segment of `per` intervals at a time; resume: a Progress to continue from.
    on_boundary(progress_fn) runs after each segment but the last (it may checkpoint, or raise to stop)."""
    spec = subgrid.spec
    total = spec.train.steps // spec.train.eval_every
    if resume is not None:
      state = jax.device_put(resume.state, self._runs)
      parts, done = [dict(resume.metrics)], resume.next_interval
    else:
      state, first = self._compile_segment(subgrid, width, None)(hp, data)
      parts, done = [{k: np.asarray(v)[:, None] for k, v in jax.device_get(first).items()}], 0
    while done < total:
      count = min(per, total - done)
      state, metrics = self._compile_segment(subgrid, width, count)(hp, data, state, np.int32(done))
      parts.append({k: np.asarray(v) for k, v in jax.device_get(metrics).items()})
      done += count
      if on_boundary is not None and done < total:
        so_far = lambda: Progress(jax.device_get(state), {k: np.concatenate([p[k] for p in parts], axis=1)
                                                         for k in parts[0]}, done)
        on_boundary(done, total, so_far)
    return {k: np.concatenate([p[k] for p in parts], axis=1)[:len(runs)] for k in parts[0]}

  def run_chunk(self, chunk_id, resume=None, on_boundary=None):
    """({metric: [runs in chunk, E]}, flat grid positions) of one chunk. resume: a ChunkProgress to
    continue from (its finished calls and the state of the one in flight); on_boundary(runs_done,
    progress_fn) is called after each segment with the runs' worth of the chunk computed (a fraction
    within a call) and a function that returns the chunk's ChunkProgress so far."""
    subgrid, traced_flat = self.plan.chunk(chunk_id)
    data = self._subgrid_data(subgrid)
    devices = self.plan.num_devices
    width = self.call_width_of(subgrid.kernel_id)
    done = list(resume.calls) if resume is not None and resume.width == width else []
    pieces = [traced_flat[i:i + width] for i in range(0, len(traced_flat), width)][len(done):]
    in_flight = resume.in_flight if resume is not None and resume.width == width else None
    while pieces:
      runs = pieces.pop(0)
      if len(runs) > width:  # the width was halved after an out-of-memory error
        pieces = [runs[i:i + width] for i in range(0, len(runs), width)] + pieces
        continue
      boundary = None
      if on_boundary is not None:
        def boundary(at, total, so_far, finished=tuple(done), runs=runs):
          runs_done = sum(len(next(iter(call.values()))) for call in finished) + len(runs) * at / total
          on_boundary(runs_done, lambda: ChunkProgress(width, list(finished), so_far()))
      try:
        done.append(self._call(subgrid, runs, data, width, in_flight, boundary))
        in_flight = None
      except Exception as error:  # noqa: BLE001 - only out-of-memory errors are retried
        if not is_out_of_memory(error) or width <= devices:
          raise
        half = -(-(width // 2) // devices) * devices
        log.warning('chunk %d ran out of device memory at %d runs per call; running it (and later chunks of '
                    'kernel %d) %d runs at a time, whose last bits may differ from the planned width\'s',
                    chunk_id, width, subgrid.kernel_id, half)
        self._width[subgrid.kernel_id] = width = half
        self.splits += 1
        pieces.insert(0, runs)
        in_flight = None
    metrics = {k: np.concatenate([d[k] for d in done]) for k in done[0]}
    return metrics, self.plan.positions(chunk_id)


@dataclasses.dataclass
class Progress:
  """A call in flight: the state after `next_interval` intervals, its metrics so far [width, next + 1]."""
  state: object
  metrics: dict
  next_interval: int


@dataclasses.dataclass
class ChunkProgress:
  """A chunk in flight: its finished calls' metrics (call_width runs each, the last one trimmed) and
  the Progress of the call it is computing."""
  width: int
  calls: list
  in_flight: Progress


def new_grid(plan, metrics):
  """NaN-filled flat result arrays for the metric names of a first chunk."""
  size = int(np.prod(plan.shape))
  return {name: np.full((size, len(plan.eval_steps)), np.nan, np.float32) for name in metrics}


def shaped(plan, flat):
  return {k: v.reshape(plan.shape + (len(plan.eval_steps),)) for k, v in flat.items()}


def run_sweep(config, chunk_size=None, call_width=None):
  """Runs every chunk in memory; returns (plan, {metric: [*grid shape, E]})."""
  plan = make_plan(config, chunk_size, call_width=call_width)
  executor = Executor(plan)
  results = {}
  for chunk_id in range(plan.num_chunks):
    metrics, where = executor.run_chunk(chunk_id)
    for name, value in metrics.items():
      results.setdefault(name, new_grid(plan, [name])[name])[where] = value
  return plan, shaped(plan, results)
