"""Rehearsing a sweep: run a few real chunks, measure them, project the whole sweep's wall time.

`--max_chunks K` runs K chunks of the real plan, the first unfinished chunk of each compiled
kernel in turn, so that every kernel is timed when K allows. A kernel that was not timed is
projected from a timed one by the ratio of their FLOPs per run (run_flops). Compile time is
counted once per kernel per process (each shard compiles what it runs).
"""

import copy
import dataclasses

import numpy as np

from sslgap.base import command
from sslgap.engine import memory


def choose_chunks(plan, shard, finished, count):
  """Up to `count` unfinished chunks of a shard: the first of each kernel, then the second of each,
  ... (found kernel by kernel, never by listing every chunk of the sweep)."""
  by_kernel = {}
  for kernel in sorted({g.kernel_id for g in plan.subgrids}):
    by_kernel[kernel] = (c for c in plan.kernel_chunks(kernel, shard) if c not in finished)
  chosen = []
  while len(chosen) < count and by_kernel:
    for kernel in list(by_kernel):
      chunk_id = next(by_kernel[kernel], None)
      if chunk_id is None:
        del by_kernel[kernel]
      elif len(chosen) < count:
        chosen.append(chunk_id)
  return chosen


# FLOP/s of one device, to predict how long a call takes before one has run (segment lengths): a
# 2-core CPU's core runs these kernels at 25-80 GFLOP/s (benchmarks/bench_sweep.py); a GPU's rate is
# the assumption of docs/PAPER_SCALE.md (10% of an H100's float32 peak): an H200 measured 23 TFLOP/s on the Fig 6
# MLP and 33 on the paper Transformer (docs/GPU_MEASURED.md), but narrower calls run slower, so the low figure stays.
PREDICTED_FLOPS = {'cpu': 25e9, 'gpu': 6.7e12, 'tpu': 2e13}


def run_flops(spec):
  """FLOPs of one run: 6 x parameters per trained example (x tokens for a sequence model) over all
  steps (full-batch phases at their sizes), plus 2 x parameters per evaluated example."""
  params = memory.param_count(spec)
  tokens = spec.task.example_shape[0] if spec.task.sequence or spec.model.kind == 'transformer' else 1
  steps = spec.train.steps
  gradients = 2 if spec.online_groups else 1  # the groups trained online take a second batch
  examples = float(spec.examples_seen(np.asarray([0, steps]))[-1]) * gradients
  evaluations = steps // spec.train.eval_every + 1
  evaluated = evaluations * (spec.test_size + spec.data.eval_train_size)
  return tokens * params * (6.0 * examples + 2.0 * evaluated)


def shortened(config, steps):
  """A copy of config that trains `steps` steps (or fewer), with phase lengths in steps and the
  evaluated examples scaled alike, so that training and evaluation keep their shares of the
  work: a rehearsal that a slow device finishes in seconds. Its time scales back by
  run_flops(config) / run_flops(shortened config)."""
  c = copy.deepcopy(config)
  if steps >= c.train.steps:
    return c
  factor = steps / c.train.steps
  evaluations = c.train.steps // c.train.eval_every
  c.train.eval_every = max(1, steps // min(evaluations, steps))
  c.train.steps = c.train.eval_every * (steps // c.train.eval_every)
  kept = c.train.steps // c.train.eval_every
  shrink = factor * (evaluations + 1) / (kept + 1)
  c.task.test_size = max(16, int(round(c.task.test_size * shrink)))
  c.data.eval_train_size = max(16, int(round(c.data.eval_train_size * shrink)))
  if c.data.phase_unit == 'steps':
    scale = lambda lengths: tuple(max(1, int(round(v * factor))) for v in lengths)
    c.hp.phase_lengths = scale(c.hp.phase_lengths)
    if 'phase_lengths' in c.sweep:
      c.sweep.phase_lengths = tuple(scale(v) for v in c.sweep.phase_lengths)
  return c


@dataclasses.dataclass
class KernelTiming:
  """What the rehearsal measured for one compiled kernel."""

  kernel_id: int
  label: str
  chunk_seconds: list = dataclasses.field(default_factory=list)
  chunk_runs: list = dataclasses.field(default_factory=list)
  compile_seconds: float = 0.0
  measured_bytes_per_run: float = 0.0  # XLA's figure for the compiled kernel, fitted at two widths
  estimated_bytes_per_run: float = 0.0  # the formula's figure (sslgap.memory)
  peak_bytes: int = 0  # a CPU's peak RSS growth, or an accelerator allocator's peak, while a chunk ran

  @property
  def seconds_per_chunk(self):
    return float(np.median(self.chunk_seconds)) if self.chunk_seconds else float('nan')


@dataclasses.dataclass
class Projection:
  total_seconds: float
  remaining_seconds: float
  shard_seconds: list  # per shard, for the whole sweep
  scaled_kernels: list  # kernel ids projected from another kernel's time


def project(plan, timings, shards=1, finished=(), flops=None):
  """Wall time of the whole sweep (and of what is left, and per shard) from the timed chunks.

  timings: {kernel id: KernelTiming}; flops: {kernel id: FLOPs per run} for scaling kernels
  that were not timed (run_flops of each kernel's config by default).
  """
  timed = {k: t for k, t in timings.items() if t.chunk_seconds}
  if not timed:
    raise ValueError('no chunk was timed')
  kernels = sorted({g.kernel_id for g in plan.subgrids})
  if flops is None:
    specs = {g.kernel_id: g.spec for g in plan.subgrids}
    flops = {k: run_flops(specs[k]) for k in kernels}
  reference = max(timed, key=lambda k: len(timed[k].chunk_seconds))
  per_chunk, compile_seconds, scaled = {}, {}, []
  for k in kernels:
    if k in timed:
      per_chunk[k], compile_seconds[k] = timed[k].seconds_per_chunk, timed[k].compile_seconds
    else:
      ratio = flops[k] / flops[reference]
      per_chunk[k] = timed[reference].seconds_per_chunk * ratio
      compile_seconds[k] = timed[reference].compile_seconds
      scaled.append(k)
  cost = lambda counts: (sum(per_chunk[k] * n for k, n in counts.items()) +
                         sum(compile_seconds[k] for k, n in counts.items() if n))
  shard_seconds = [cost(plan.chunk_counts((shard, shards))) for shard in range(shards)]
  total = sum(per_chunk[k] * n for k, n in plan.chunk_counts().items()) + sum(compile_seconds.values())
  remaining = cost(plan.chunk_counts(exclude=set(finished)))
  return Projection(total, remaining, shard_seconds, scaled)


def report(plan, timings, projection, shards=1):
  """Lines for the log: one per kernel, then the line that starts with `projected:`."""
  lines = []
  for k, t in sorted(timings.items()):
    if not t.chunk_seconds:
      continue
    runs = int(np.median(t.chunk_runs))
    lines.append(f'rehearsal: kernel {k}{" " + t.label if t.label else ""}: {len(t.chunk_seconds)} chunk(s) of {runs:,} runs, '
                 f'{t.seconds_per_chunk:.3g} s per chunk ({command.rate(runs / t.seconds_per_chunk)} runs/s), compile '
                 f'{t.compile_seconds:.1f} s; memory per run {t.measured_bytes_per_run / 1e6:.3g} MB measured (XLA, '
                 f'two chunk widths), {t.estimated_bytes_per_run / 1e6:.3g} MB estimated (formula); '
                 f'{t.peak_bytes / 1e6:,.0f} MB {"resident memory grew while the chunk ran" if plan.device.get("platform") == "cpu" else "allocator peak so far"}')
  device = plan.device or {}
  text = (f'projected: {plan.num_chunks:,} chunk(s), {plan.num_runs:,} runs: {command.duration(projection.total_seconds)} '
          f'on this device ({device.get("kind", "?")} x{plan.num_devices}); {command.duration(projection.remaining_seconds)} '
          'for the chunks not yet done')
  if shards > 1:
    text += (f'; with {shards} shards {command.duration(max(projection.shard_seconds))} for the slowest shard '
             f'(mean {command.duration(float(np.mean(projection.shard_seconds)))})')
  if projection.scaled_kernels:
    text += f'; kernels {projection.scaled_kernels} scaled from a timed kernel by FLOPs'
  return lines + [text]


def as_json(plan, timings, projection):
  """What a rehearsal measured and projected, for rehearsal.json."""
  return {
      'device': plan.device, 'runs': plan.num_runs, 'chunks': plan.num_chunks, 'chunk_size': plan.chunk_size,
      'kernels': plan.num_kernels, 'measured_memory': plan.measured,
      'timings': [dataclasses.asdict(t) for t in timings.values()],
      'projected_seconds': projection.total_seconds, 'remaining_seconds': projection.remaining_seconds,
      'shard_seconds': projection.shard_seconds, 'scaled_kernels': projection.scaled_kernels,
  }
