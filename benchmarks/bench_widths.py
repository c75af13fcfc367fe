"""Which call width, scan unrolling and XLA command-buffer setting is fastest: run-steps per second of
one kernel call of the paper Figure 6 preset (an MLP) and the paper Transformer Figure 1 preset, at
each width, with and without train.scan_unroll, with command buffers for while loops off (XLA's
default) and on, each as a ratio to the workload's baseline (the narrowest width, no unrolling,
XLA's default) measured in the same run.

  python benchmarks/bench_widths.py                           # the matrix for this device
  python benchmarks/bench_widths.py --widths=1024,65536 --unrolls=1,8 --json=OUT/widths.json

On a GPU the matrix is widths 1,024 to 65,536 (the Transformer 256 to 4,096: memory), unrolls 1 and
8, command buffers off and on; on a CPU small widths, unrolls 1 and 4, and command buffers skipped (a
GPU feature), each skip said in the output. Runs are shortened to --steps (FLOPs per step, not the
length, decide the rate). A --budget_s bounds the whole matrix: cells left when it is spent are listed
as not measured. XLA reads its flags when the backend starts, so each command-buffer setting runs in
its own process.
"""

import json
import os
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_WORKLOADS = flags.DEFINE_list('workloads', ['fig6', 'transformer'], 'Workloads to measure (fig6, transformer).')
_WIDTHS = flags.DEFINE_list('widths', None, 'Runs per call (default: 1024 ... 65536 on a GPU; on a CPU 16 and 64, the '
                            'Transformer 1 and 2).')
_UNROLLS = flags.DEFINE_list('unrolls', None, 'train.scan_unroll values (default: 1,8 on a GPU, 1,4 on a CPU).')
_STEPS = flags.DEFINE_integer('steps', None, 'Training steps of each measured run (default: 100 on a GPU, 20 on a CPU).')
_REPEATS = flags.DEFINE_integer('repeats', 2, 'Timed calls per cell after the compiling one (the fastest counts).')
_BUDGET_S = flags.DEFINE_float('budget_s', 240.0, 'Seconds for the whole matrix; cells left after are not measured.')
_JSON = flags.DEFINE_string('json', None, 'Write the rows, the skips and the fastest cells here as JSON.')
_INNER = flags.DEFINE_string('inner', None, 'Internal: measure one command-buffer setting, write JSON here.')
_SETTING = flags.DEFINE_string('setting', 'off', 'Internal: the command-buffer setting of --inner.')

WORKLOADS = {'fig6': 'sweeps/init_scale_heatmap.py', 'transformer': 'sweeps/tfm_fig1.py:paper'}
# XLA's default command buffers hold fusions and library calls; 'on' adds while loops and conditionals,
# so that a scan's steps are one graph launch instead of one launch per kernel per step.
COMMAND_BUFFERS = {'off': None, 'on': 'FUSION,CUBLAS,CUBLASLT,CUSTOM_CALL,CUDNN,WHILE,CONDITIONAL'}


def _config(workload, steps, width, unroll):
  from sslgap import config as config_lib
  c = config_lib.load(os.path.join(ROOT, WORKLOADS[workload]))
  c.train.steps, c.train.eval_every = steps, steps
  # Evaluations shrunk to a few examples: the rate measured is the training's (at the paper's spacing
  # evaluations are about 1% of a run), not that of two evaluations of thousands of examples.
  c.task.test_size, c.data.eval_train_size, c.data.eval_batch_size = 64, 64, 64
  c.train.scan_unroll = unroll
  c.engine.call_width, c.engine.segment_intervals = width, 10**9  # one call, no segments
  runs = 1
  for axis, values in config_lib.sweep_axes(c):
    if axis != 'seed':
      runs *= len(values)
  c.sweep.seed = tuple(range(max(len(c.sweep.seed), -(-width // max(runs, 1)))))  # enough runs for one call
  return c


def measure(workload, steps, width, unroll, repeats):
  """{'workload', 'width' (as run: memory may cap it), 'unroll', 'compile_s', 'seconds', 'run_steps_per_s'}."""
  from sslgap import sweep
  config = _config(workload, steps, width, unroll)
  plan = sweep.make_plan(config, call_width=width)
  executor = sweep.Executor(plan)
  start = time.perf_counter()
  executor.prepare(0)
  executor.run_chunk(0)  # the first call: transfers and warm-up
  compile_s = time.perf_counter() - start
  times = []
  for _ in range(repeats):
    start = time.perf_counter()
    executor.run_chunk(0)
    times.append(time.perf_counter() - start)
  seconds = min(times)
  ran = executor._width.get(plan.subgrids[0].kernel_id, plan.call_width)  # halved if it ran out of memory
  return {'workload': workload, 'width': ran, 'asked_width': width, 'unroll': unroll,
          'compile_s': compile_s, 'seconds': seconds, 'run_steps_per_s': plan.chunk_size * steps / seconds}


def _inner(path, setting):
  """Measures the cells of the plan in `path`, rewriting it after each (rows, skipped, 'current': the
  cell being measured), so that a process killed in a cell (out of host memory) loses that cell only."""
  import sslgap  # noqa: F401  (one XLA device per CPU core, before JAX starts)
  import jax
  plan = json.load(open(path))
  plan.update(rows=[], skipped=[], device=jax.devices()[0].device_kind)
  for cell in plan['cells']:
    if time.time() > plan['deadline']:
      plan['skipped'].append(dict(cell, setting=setting, why='time budget spent'))
      continue
    plan['current'] = cell
    _write(path, plan)
    try:
      row = measure(cell['workload'], plan['steps'], cell['width'], cell['unroll'], plan['repeats'])
    except Exception as e:  # noqa: BLE001 - a cell that cannot run (memory, flags) is recorded, not fatal
      plan['skipped'].append(dict(cell, setting=setting, why=f'{type(e).__name__}: {str(e).splitlines()[0][:200]}'))
      continue
    row['command_buffers'] = setting
    plan['rows'].append(row)
    print(f'  {setting:>3} {row["workload"]:>11} width {row["width"]:>6,} unroll {row["unroll"]}: '
          f'{row["run_steps_per_s"]:,.4g} run-steps/s (compile and first call {row["compile_s"]:.1f} s)', flush=True)
  plan['current'] = None
  _write(path, plan)


def _write(path, content):
  with open(path + '.tmp', 'w') as f:
    json.dump(content, f, indent=1)
  os.replace(path + '.tmp', path)


def _platform():
  done = subprocess.run([sys.executable, '-c', 'import sslgap, jax; print(jax.default_backend())'],
                        capture_output=True, text=True, cwd=ROOT)
  if done.returncode:
    raise SystemExit(f'error: python cannot import sslgap and jax: {done.stderr.strip().splitlines()[-1:]}')
  return done.stdout.strip().splitlines()[-1]


def _check_flags():
  from sslgap import command
  unknown = [w for w in _WORKLOADS.value if w not in WORKLOADS]
  if unknown or not _WORKLOADS.value:
    command.fail(f'--workloads: {", ".join(unknown) or "none given"}: use some of {", ".join(WORKLOADS)}')
  for name, values in (('widths', _WIDTHS.value), ('unrolls', _UNROLLS.value)):
    if values is not None and not all(v.isdigit() and int(v) > 0 for v in values):
      command.fail(f'--{name}: {",".join(values)}: give positive whole numbers, e.g. --{name}=1,8')
  if _STEPS.value is not None and _STEPS.value < 1 or _REPEATS.value < 1 or _BUDGET_S.value <= 0:
    command.fail('--steps, --repeats and --budget_s must be positive')


def summarise(rows):
  """(lines, fastest {workload: row}): each cell's ratio to its workload's baseline, the fastest cell."""
  lines, fastest = [], {}
  for workload in sorted({r['workload'] for r in rows}):
    mine = [r for r in rows if r['workload'] == workload]
    base = min(mine, key=lambda r: (r['command_buffers'] != 'off', r['unroll'] != 1, r['width']))
    for r in sorted(mine, key=lambda r: (r['command_buffers'], r['unroll'], r['width'])):
      r['ratio_to_baseline'] = r['run_steps_per_s'] / base['run_steps_per_s']
      lines.append(f'{workload}: width {r["width"]:>6,} unroll {r["unroll"]} command buffers {r["command_buffers"]:>3}: '
                   f'{r["run_steps_per_s"]:,.4g} run-steps/s, x{r["ratio_to_baseline"]:.3g} the baseline (width '
                   f'{base["width"]:,}, unroll {base["unroll"]}, command buffers {base["command_buffers"]})')
    fastest[workload] = max(mine, key=lambda r: r['run_steps_per_s'])
  return lines, fastest


def main(argv):
  del argv
  if _INNER.value:
    _inner(_INNER.value, _SETTING.value)
    return 0
  _check_flags()
  platform = _platform()
  on_gpu = platform == 'gpu'
  # A paper Transformer run needs gigabytes on a CPU: its CPU widths are smaller.
  default_widths = {'fig6': [1024, 4096, 16384, 65536] if on_gpu else [16, 64],
                    'transformer': [256, 1024, 4096] if on_gpu else [2, 4]}
  widths = {w: [int(x) for x in _WIDTHS.value] if _WIDTHS.value else default_widths[w] for w in _WORKLOADS.value}
  unrolls = [int(u) for u in (_UNROLLS.value or (['1', '8'] if on_gpu else ['1', '4']))]
  steps = _STEPS.value or (100 if on_gpu else 20)
  settings = list(COMMAND_BUFFERS) if on_gpu else ['off']
  skipped = [] if on_gpu else [{'setting': 'on', 'why': 'command buffers are a GPU feature: not measured on a CPU'}]
  print(f'platform {platform}; widths {widths}, unrolls {unrolls}, {steps} steps a run, command buffers {settings}')
  # Unrolled cells last: if the budget runs out, every workload has its widths at least.
  cells = [{'workload': w, 'width': width, 'unroll': u} for u in unrolls for w in _WORKLOADS.value for width in widths[w]]
  deadline = time.time() + _BUDGET_S.value
  rows, device = [], None
  for i, setting in enumerate(settings):
    # Each setting gets its share of what is left, so that a slow first one cannot starve the second.
    share = (deadline - time.time()) / (len(settings) - i)
    with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
      json.dump({'cells': cells, 'steps': steps, 'repeats': _REPEATS.value, 'deadline': time.time() + share}, f)
    env = dict(os.environ)
    if COMMAND_BUFFERS[setting] is not None:
      env['XLA_FLAGS'] = f'{env.get("XLA_FLAGS", "")} --xla_gpu_enable_command_buffer={COMMAND_BUFFERS[setting]}'.strip()
    done = subprocess.run([sys.executable, os.path.abspath(__file__), f'--inner={f.name}', f'--setting={setting}'],
                          cwd=ROOT, env=env)
    result = json.load(open(f.name))
    os.unlink(f.name)
    rows += result.get('rows', [])
    skipped += result.get('skipped', [])
    device = result.get('device', device)
    if done.returncode:  # killed in a cell (the host out of memory): the cells after it were not reached
      reached = [result['current']] if result.get('current') else []
      left = cells[cells.index(result['current']) + 1:] if reached else cells  # died before its first cell
      skipped += [dict(c, setting=setting, why=f'the measuring process died in it (exit code {done.returncode})')
                  for c in reached]
      skipped += [dict(c, setting=setting, why='not reached: the measuring process died before') for c in left]
  lines, fastest = summarise(rows)
  print(f'device: {device}')
  print('\n'.join(lines))
  for workload, r in fastest.items():
    print(f'fastest for {workload}: width {r["width"]:,}, train.scan_unroll={r["unroll"]}, command buffers '
          f'{r["command_buffers"]} ({r["run_steps_per_s"]:,.4g} run-steps/s, x{r["ratio_to_baseline"]:.3g} the baseline)')
  for s in skipped:
    print('skipped: ' + ', '.join(f'{k} {v}' for k, v in s.items() if k != 'why') + f': {s["why"]}')
  if _JSON.value:
    with open(_JSON.value, 'w') as f:
      json.dump({'device': device, 'platform': platform, 'steps': steps, 'rows': rows, 'skipped': skipped,
                 'fastest': fastest, 'command_buffers': COMMAND_BUFFERS}, f, indent=1)
  return 0 if rows else 1


if __name__ == '__main__':
  app.run(main)
