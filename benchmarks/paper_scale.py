"""Rehearses every paper-scale preset on this machine and writes docs/PAPER_SCALE.md.

  python benchmarks/paper_scale.py                          # every paper preset (a CPU: ~20 minutes)
  python benchmarks/paper_scale.py --only=fig6_init,fig2_parity_gd --doc=/tmp/x.md
  python benchmarks/paper_scale.py --gpu_projection_only    # the GPU section again from the saved rows

For each preset (sslgap.catalog): its plan on this device (runs, compiled kernels, chunks and
their size), then a rehearsal of real chunks (`--max_chunks`: the first chunk of up to
--max_kernels kernels, the others projected by FLOPs), bytes per run by the formula and as
measured, seconds per chunk, and the projected wall time of the whole sweep on this device.
On a CPU, where a chunk of full runs would take more than about --chunk_seconds, the rehearsal
trains fewer steps (rehearse.shortened: phase lengths in steps and evaluated examples scaled
alike, at least 20 steps) and its time is scaled back by the ratio of FLOPs per run; the table
says so per row. --max_steps caps the steps on any device. Memory per run is XLA's
figure for the compiled kernel, fitted at two chunk widths (fixed + per run).
"""

import datetime
import json
import math
import os
import tempfile
import time

from absl import app
from absl import flags

import sslgap  # noqa: F401  (one XLA device per CPU core, before JAX starts)
import jax

from sslgap import catalog
from sslgap import command
from sslgap import memory
from sslgap import rehearse
from sslgap import runner
from sslgap import sweep

_ONLY = flags.DEFINE_list('only', [], 'Experiment ids (sslgap.catalog) to rehearse; default all.')
_MAX_STEPS = flags.DEFINE_integer('max_steps', None, 'Shorten runs to at most this many steps.')
_CHUNK_SECONDS = flags.DEFINE_float('chunk_seconds', 20.0, 'On a CPU: shorten runs so that a rehearsed chunk takes '
                                    'about this long, from its FLOPs at CPU_FLOPS.')
CPU_FLOPS = 50e9  # a conservative rate for one chunk on this project's 2-core CPUs (bench_sweep: 60-160 GFLOP/s)
_MAX_KERNELS = flags.DEFINE_integer('max_kernels', 2, 'Kernels rehearsed per preset (the rest projected by FLOPs).')
_DOC = flags.DEFINE_string('doc', 'docs/PAPER_SCALE.md', 'Markdown file to write.')
_GPU_ONLY = flags.DEFINE_bool('gpu_projection_only', False, 'Rewrite the doc from the saved rows (--json) with the GPU '
                               'projection recomputed from plans and FLOPs; rehearses nothing (seconds).')
_JSON = flags.DEFINE_string('json', 'docs/paper_scale.json', 'The rows as JSON: read first (rows of experiments not '
                             'rehearsed now are kept, so --only updates the table), then written.')


def rehearse_preset(experiment, max_steps, max_kernels, scratch):
  full = catalog.load_config(experiment, 'paper')
  plan = sweep.make_plan(full)
  if jax.default_backend() == 'cpu':
    per_step = max(rehearse.run_flops(g.spec) for g in plan.subgrids) / full.train.steps * plan.chunk_size
    affordable = max(20, int(_CHUNK_SECONDS.value * CPU_FLOPS / per_step))
    max_steps = min(max_steps or affordable, affordable)
  short = rehearse.shortened(full, max_steps) if max_steps else full
  short.engine.call_width = plan.call_width  # the full runs' width, not one sized for shorter runs
  kernels = min(plan.num_kernels, max_kernels)
  start = time.perf_counter()
  options = runner.Options(chunk_size=plan.chunk_size, max_chunks=kernels, progress=False)
  summary = runner.run_to_folder(short, os.path.join(scratch, experiment.id), options)
  wall = time.perf_counter() - start
  short_plan = sweep.make_plan(short, chunk_size=plan.chunk_size, call_width=plan.call_width)
  full_specs = {g.kernel_id: g.spec for g in plan.subgrids}
  short_specs = {g.kernel_id: g.spec for g in short_plan.subgrids}
  timings = {}
  for k, t in summary.timings.items():
    ratio = rehearse.run_flops(full_specs[k]) / rehearse.run_flops(short_specs[k])
    timings[k] = rehearse.KernelTiming(k, t.label, [s * ratio for s in t.chunk_seconds], t.chunk_runs,
                                       t.compile_seconds, t.measured_bytes_per_run, t.estimated_bytes_per_run,
                                       t.peak_bytes)
  projection = rehearse.project(plan, timings)
  measured = sweep.measure_memory(plan, kernel_ids=set(timings))['per_run']  # the full runs' kernels
  return {
      'id': experiment.id, 'figure': experiment.figure, 'command': experiment.command('paper'),
      'runs': plan.num_runs, 'kernels': plan.num_kernels, 'chunks': plan.num_chunks, 'chunk_size': plan.chunk_size,
      'steps': full.train.steps, 'rehearsed_steps': short.train.steps, 'kernels_rehearsed': len(timings),
      'bytes_per_run_estimated': plan.bytes_per_run, 'bytes_per_run_measured': measured,
      'seconds_per_chunk': min(t.seconds_per_chunk for t in timings.values()),
      'projected_hours': projection.total_seconds / 3600, 'rehearsal_seconds': wall,
  }


# The GPU projection's assumptions: H100 and H200 have the same float32 (non-tensor-core) peak, which
# train.matmul_precision='highest' uses; small vmapped matrices reach a fraction of it. Not measured:
# benchmarks/gpu_check.sh measures the real rate on a GPU, whose number replaces this one.
GPU = 'h100'
GPU_PEAK_FLOPS = 67e12
GPU_EFFICIENCY = 0.10
JOB_HOURS = 3.5  # per Slurm job under a 4-hour limit, leaving room for compiles and the merge


def gpu_projection(experiment):
  """Runs, FLOPs, the plan on one GPU and its projected hours at GPU_EFFICIENCY of GPU_PEAK_FLOPS, and
  a Slurm command line where one GPU would take longer than JOB_HOURS."""
  config = catalog.load_config(experiment, 'paper')
  plan = sweep.make_plan(config, device=memory.named_device(GPU))
  flops = sum(rehearse.run_flops(g.spec) * plan.runs_per_subgrid for g in plan.subgrids)
  rate = GPU_PEAK_FLOPS * GPU_EFFICIENCY
  hours = flops / rate / 3600
  chunk_seconds = flops / plan.num_chunks / rate
  # A signalled shard checkpoints its chunk at the next segment boundary: the delay needs a segment
  # (as the engine cuts it) and the checkpoint's write, not the whole chunk.
  # A segment is at least one evaluation interval, so the longest is that of the costliest kernel.
  segment_seconds = max(sweep.predicted_segment_seconds(plan, spec, plan.call_width)
                        for spec in {g.kernel_id: g.spec for g in plan.subgrids}.values())
  shards = max(1, math.ceil(hours / JOB_HOURS))
  slurm = ''
  if shards > 1:
    delay = int(min(900, max(120, 2 * segment_seconds + 60)))
    slurm = (f'{experiment.command("paper")} --launcher=slurm --shards={shards} --timeout_min=240 '
             f'--signal_delay_s={delay}')
  return {'id': experiment.id, 'runs': plan.num_runs, 'flops': flops, 'chunks': plan.num_chunks,
          'chunk_size': plan.chunk_size, 'hours': hours, 'chunk_seconds': chunk_seconds,
          'segment_seconds': segment_seconds, 'slurm': slurm}


def gpu_markdown(projections):
  rate = GPU_PEAK_FLOPS * GPU_EFFICIENCY
  lines = [
      '', '## On one GPU (projected from FLOPs, not measured)', '',
      f'Each preset planned for one {GPU.upper()} (`--dry_run --device={GPU}`: its chunks hold what fits 80 GB) and timed',
      f'at {GPU_EFFICIENCY:.0%} of the float32 peak of an H100 or H200 ({GPU_PEAK_FLOPS / 1e12:.0f} TFLOP/s, '
      f'so {rate / 1e12:.1f} TFLOP/s),', 'the rate we assume for small vmapped matrices at `train.matmul_precision=highest`; '
      '`bash benchmarks/gpu_check.sh` measures', 'the real rate (on an NVIDIA H200, 23 TFLOP/s for the Fig 6 sweep, 11.9 min: docs/GPU_MEASURED.md). '
      f'A preset longer than {JOB_HOURS} GPU-hours gets a Slurm', 'command: shards of about that length under a '
      '4-hour limit, and a signal delay of twice a segment\'s projected', 'time plus a minute (at least 120 s): a '
      'signalled shard checkpoints the chunk it is computing at its next segment boundary', '(`engine.segment_seconds`, '
      '30 s, but never less than one evaluation interval: the longest segment of a preset\'s kernels is shown) and the '
      'requeued', 'shard continues it from there, so a chunk may take hours.', '',
      '| experiment | runs | TFLOPs | chunks x size | s per chunk (mean) | s per segment (the longest kernel\'s) | GPU-hours '
      '| Slurm (when over one job) |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
  ]
  for p in projections:
    slurm = f'`{p["slurm"]}`' if p['slurm'] else f'one GPU: `python -m sslgap.reproduce --scale paper --only {p["id"]}`'
    lines.append(f'| `{p["id"]}` | {p["runs"]:,} | {p["flops"] / 1e12:,.3g} | {p["chunks"]:,} x {p["chunk_size"]:,} '
                 f'| {p["chunk_seconds"]:.3g} | {p["segment_seconds"]:.3g} | {p["hours"]:,.2f} | {slurm} |')
  lines += ['', f'All {len(projections)} presets: {sum(p["hours"] for p in projections):,.1f} GPU-hours projected.', '']
  return '\n'.join(lines)


def markdown(rows, device, started):
  lines = [
      '# Paper scale: rehearsed on this machine',
      '',
      f'Generated by `python benchmarks/paper_scale.py` on {started:%Y-%m-%d} ({device}, JAX {jax.__version__}).',
      'Each row rehearses the paper-scale preset (no `:small`) of one experiment: its real plan on this',
      'device, then real chunks run by the engine (`--max_chunks`), one per compiled kernel for up to two',
      'kernels (the others projected from them by FLOPs per run). "steps" shows where a rehearsal trained',
      'fewer steps than the preset (as many evaluations, phase lengths scaled alike) and its time was',
      'scaled back by the ratio of FLOPs per run. Bytes per run: the formula that sizes chunks on a CPU',
      '(`sslgap.memory`) and XLA\'s figure for the compiled kernel at two chunk widths. The projection is the',
      'sum over all chunks of the seconds per chunk of their kernel, plus one compile per kernel; a GPU',
      'runs the same presets with far larger chunks (see `--dry_run --device=h100`).',
      '',
      '| experiment | fig | runs | kernels | chunks x size | steps (rehearsed) | MB/run est. / meas. | s per chunk | projected hours |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|',
  ]
  for r in rows:
    steps = f'{r["steps"]:,}' + (f' ({r["rehearsed_steps"]:,})' if r['rehearsed_steps'] != r['steps'] else '')
    lines.append(f'| `{r["id"]}` | {r["figure"]} | {r["runs"]:,} | {r["kernels"]} | {r["chunks"]:,} x {r["chunk_size"]:,} '
                 f'| {steps} | {r["bytes_per_run_estimated"] / 1e6:.3g} / {r["bytes_per_run_measured"] / 1e6:.3g} '
                 f'| {r["seconds_per_chunk"]:.3g} | {r["projected_hours"]:,.1f} |')
  total = sum(r['projected_hours'] for r in rows)
  lines += ['', f'All {len(rows)} presets: {total:,.0f} hours on this device; the rehearsals took '
            f'{sum(r["rehearsal_seconds"] for r in rows) / 60:.0f} minutes.', '']
  return '\n'.join(lines)


def main(argv):
  del argv
  try:
    experiments = catalog.for_scale('paper', _ONLY.value)
  except ValueError as e:
    command.fail(str(e))
  device = jax.devices()[0]
  max_steps = _MAX_STEPS.value
  started = datetime.datetime.now()
  name = f'{device.device_kind} x{jax.local_device_count()} XLA device(s)'
  previous = {}
  if _JSON.value and os.path.exists(_JSON.value):
    with open(_JSON.value) as f:
      saved = json.load(f)
    if saved.get('device') == name:  # rows measured on another machine are not mixed in
      previous = {row['id']: row for row in saved['rows']}
  with tempfile.TemporaryDirectory() as scratch:
    for experiment in [] if _GPU_ONLY.value else experiments:
      row = rehearse_preset(experiment, max_steps, _MAX_KERNELS.value, scratch)
      print(f'{row["id"]}: {row["runs"]:,} runs in {row["chunks"]:,} chunks of {row["chunk_size"]:,}: '
            f'{row["projected_hours"]:,.1f} hours projected (rehearsal {row["rehearsal_seconds"]:.0f} s)', flush=True)
      previous[row['id']] = row
  rows = [previous[e.id] for e in catalog.for_scale('paper') if e.id in previous]
  if _GPU_ONLY.value and not rows:
    command.fail(f'--gpu_projection_only: {_JSON.value} holds no rows of this device ({name}); rehearse first')
  gpu = gpu_markdown([gpu_projection(e) for e in catalog.for_scale('paper') if e.id in previous])
  with open(_DOC.value, 'w') as f:
    f.write(markdown(rows, name, started) + gpu)
  if _JSON.value:
    with open(_JSON.value, 'w') as f:
      json.dump({'device': name, 'rows': rows}, f, indent=1)
  print(f'wrote {_DOC.value} ({len(rows)} presets)')


if __name__ == '__main__':
  app.run(main)
