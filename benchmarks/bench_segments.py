"""What segments and checkpoints cost: one chunk computed in one call against the same chunk in
segments (and with a checkpoint written at every segment), in the same process, alternating, and
the ratios of their times. Also checks that the segmented numbers equal the whole call's, bitwise.

  python benchmarks/bench_segments.py                        # the MLP and the Transformer workloads
  python benchmarks/bench_segments.py --repeats=5 --intervals=4

A segment costs one host round trip (a dispatch, its evaluations copied back); a checkpoint copies
the state back and writes it. The default segment_seconds keeps segments long enough that both are
well under 1% of a chunk; here segments are made as short as asked (--intervals per segment) to
bound the cost from above.
"""

import json
import os
import statistics
import tempfile
import time

from absl import app
from absl import flags

import sslgap  # noqa: F401  (one XLA device per CPU core, before JAX starts)
import jax
import numpy as np

from sslgap import chunk_files
from sslgap import config as config_lib
from sslgap import sweep

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_REPEATS = flags.DEFINE_integer('repeats', 3, 'Alternating repetitions of each way.')
_INTERVALS = flags.DEFINE_integer('intervals', 1, 'Evaluation intervals per segment (1: the most segments).')
_JSON = flags.DEFINE_string('json', None, 'Write the ratios here as JSON too.')

WORKLOADS = {
    # (config, overrides): about a second a chunk on 2 CPU cores, 20 evaluation intervals.
    'mlp': ('sweeps/init_scale_heatmap.py:small', dict(steps=2000, eval_every=100)),
    'transformer': ('sweeps/tfm_fig1.py:small', dict(steps=400, eval_every=20)),
}


def _config(name):
  spec, train = WORKLOADS[name]
  c = config_lib.load(os.path.join(ROOT, spec))
  c.train.steps, c.train.eval_every = train['steps'], train['eval_every']
  for axis, values in config_lib.sweep_axes(c):
    c.sweep[axis] = tuple(values[:2]) if axis == 'seed' else tuple(values[-1:])
  return c


def _timed(executor, checkpoint_to=None):
  """Seconds of one chunk (compiled before), and its metrics."""
  on_boundary = None
  if checkpoint_to:
    def on_boundary(runs_done, progress_fn):
      p = progress_fn()
      chunk_files.write_partial(checkpoint_to, 0, 0, executor.plan.positions(0), 'bench', p.width, p.calls,
                                jax.tree_util.tree_leaves(p.in_flight.state), p.in_flight.metrics,
                                p.in_flight.next_interval)
  start = time.perf_counter()
  metrics, _ = executor.run_chunk(0, on_boundary=on_boundary)
  return time.perf_counter() - start, metrics


def bench(name, repeats, intervals):
  c = _config(name)
  c.engine.segment_intervals = 10**9
  whole = sweep.Executor(sweep.make_plan(c))
  c.engine.segment_intervals = intervals
  split = sweep.Executor(sweep.make_plan(c))
  _timed(whole)  # compile and warm up both
  _timed(split)
  times = {'whole': [], 'segments': [], 'segments+checkpoints': []}
  with tempfile.TemporaryDirectory() as scratch:
    os.makedirs(os.path.join(scratch, 'chunks'))
    for _ in range(repeats):
      t, a = _timed(whole)
      times['whole'].append(t)
      t, b = _timed(split)
      times['segments'].append(t)
      t, _ = _timed(split, checkpoint_to=scratch)
      times['segments+checkpoints'].append(t)
  same = all(np.array_equal(a[k], b[k], equal_nan=True) for k in a)
  median = {k: statistics.median(v) for k, v in times.items()}
  total = c.train.steps // c.train.eval_every
  return {'workload': name, 'runs': whole.plan.call_width, 'intervals': total, 'segments': -(-total // intervals),
          'bitwise_equal': same, 'whole_s': median['whole'],
          'segments_ratio': median['segments'] / median['whole'],
          'checkpoints_ratio': median['segments+checkpoints'] / median['whole']}


def main(argv):
  del argv
  rows = [bench(name, _REPEATS.value, _INTERVALS.value) for name in WORKLOADS]
  print(f'device: {jax.devices()[0].device_kind} x{jax.local_device_count()}; median of {_REPEATS.value}, alternating')
  for r in rows:
    print(f'{r["workload"]}: {r["runs"]} runs, {r["intervals"]} intervals in {r["segments"]} segments; one call '
          f'{r["whole_s"]:.3g} s; segments x{r["segments_ratio"]:.3f}; with a checkpoint a segment '
          f'x{r["checkpoints_ratio"]:.3f}; bitwise equal: {r["bitwise_equal"]}')
  if _JSON.value:
    with open(_JSON.value, 'w') as f:
      json.dump(rows, f, indent=1)
  return 0 if all(r['bitwise_equal'] for r in rows) else 1


if __name__ == '__main__':
  app.run(main)
