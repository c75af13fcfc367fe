"""The work a SIGKILL loses: a Transformer sweep of one long chunk, killed at 90% of its computing time
and run again, without checkpoints (the whole chunk in one call, as before segments) and in 20
segments with a checkpoint every tenth of the chunk. Work lost = the computing time of both processes minus that of
an uninterrupted run, in seconds and in checkpoint intervals.

  python benchmarks/bench_kill.py                    # about 5 minutes on 2 CPU cores
  python benchmarks/bench_kill.py --steps=6000 --at=0.9
"""

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

from absl import app
from absl import flags

from sslgap import command

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STEPS = flags.DEFINE_integer('steps', 3000, 'Training steps of each run (evaluated every steps / 100).')
_AT = flags.DEFINE_float('at', 0.9, 'When to kill, as a share of the uninterrupted computing time.')

SUMMARY = re.compile(r'([\d.]+) s running')


def _command(out, steps, extra):
  return [sys.executable, 'experiments/learning_curves.py', '--config=sweeps/tfm_fig1.py:small',
          '--config.model.dim=16', '--config.model.layers=1', '--config.sweep.lr=(0.003,)', '--config.sweep.seed=(0,1)',
          f'--config.train.steps={steps}', f'--config.train.eval_every={steps // 100}', '--chunk_size=6',
          '--config.engine.call_width=6', f'--out={out}', *extra]


def _run(out, steps, extra, kill_after=None):
  """(computing seconds the process reported, or None if killed; its stderr). kill_after: seconds
  after the kernel it computes with compiled (the whole run's, or the segment's: computing starts
  there) to SIGKILL it."""
  process = subprocess.Popen(_command(out, steps, extra), cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             text=True, env=dict(os.environ, PYTHONUNBUFFERED='1'))
  lines, compiled = [], threading.Event()

  def read():
    for line in process.stderr:
      lines.append(line)
      if re.search(r"compiled kernel \d+ for|compiled kernel \d+'s segment", line):
        compiled.set()

  reader = threading.Thread(target=read, daemon=True)
  reader.start()
  if kill_after is not None:
    compiled.wait(timeout=600)
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
  process.wait()
  reader.join()
  text = ''.join(lines)
  found = SUMMARY.search(text)
  return (float(found.group(1)) if found and process.returncode == 0 else None), text


def lost(steps, at, mode):
  """Seconds of work lost by a SIGKILL at `at` of the chunk, for mode 'one call' or 'checkpoints'."""
  with tempfile.TemporaryDirectory() as scratch:
    whole, _ = _run(os.path.join(scratch, 'whole'), steps, _extra(mode, None))
    interval = whole / 10
    extra = _extra(mode, interval)
    _, killed_log = _run(os.path.join(scratch, 'killed'), steps, extra, kill_after=at * whole)
    rerun, log = _run(os.path.join(scratch, 'killed'), steps, extra)
    resumed = re.search(r'resumes from its checkpoint at step ([\d,]+)', log)
  spent = at * whole + rerun
  # A checkpoint is written at the first segment boundary after the interval: the spacing it had.
  written = [int(n) for n in re.findall(r'checkpoint at interval (\d+)', killed_log)]
  gaps = sorted(b - a for a, b in zip(written, written[1:]))
  spacing = gaps[len(gaps) // 2] * whole / 100 if gaps else None
  return {'mode': mode, 'chunk_seconds': whole, 'checkpoint_seconds': interval if mode == 'checkpoints' else None,
          'checkpoint_spacing_seconds': spacing, 'lost_seconds': spent - whole,
          'resumed_at_step': resumed.group(1) if resumed else '0 (from the start)'}


def _extra(mode, interval):
  if mode == 'one call':
    return ['--config.engine.segment_intervals=1000000000']  # the whole run in one call: no checkpoint
  minutes = (interval or 60.0) / 60
  # 20 segments of 5 evaluation intervals, a checkpoint at the first boundary after each tenth
  return ['--config.engine.segment_intervals=5', f'--config.engine.checkpoint_minutes={minutes:.6f}']


def main(argv):
  del argv
  if _STEPS.value < 100 or _STEPS.value % 100:
    command.fail(f'--steps={_STEPS.value}: give a multiple of 100 (a run is evaluated 100 times)')
  if not 0 < _AT.value < 1:
    command.fail(f'--at={_AT.value}: give a share of the chunk between 0 and 1, e.g. --at=0.9')
  rows = [lost(_STEPS.value, _AT.value, mode) for mode in ('one call', 'checkpoints')]
  for r in rows:
    extra = (f'; a checkpoint asked every {r["checkpoint_seconds"]:.3g} s, written every '
             f'{r["checkpoint_spacing_seconds"]:.3g} s (a whole number of segments), so '
             f'{r["lost_seconds"] / r["checkpoint_spacing_seconds"]:.2f} checkpoint intervals'
             if r['checkpoint_spacing_seconds'] else '')
    print(f'{r["mode"]}: a chunk of {r["chunk_seconds"]:.3g} s computing, SIGKILL at {_AT.value:.0%}: '
          f'{r["lost_seconds"]:.3g} s lost ({r["lost_seconds"] / r["chunk_seconds"]:.0%} of the chunk){extra}; '
          f'the rerun resumed at step {r["resumed_at_step"]}')
  return 0


if __name__ == '__main__':
  app.run(main)
