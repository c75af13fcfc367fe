"""A chunk computed in segments (a few evaluation intervals a call, its state carried between calls)
equals it computed in one call, bitwise, for every gradient source and schedule."""

import os
import re
import signal
import time

import numpy as np
import pytest

import golden
from sslgap import chunk_files
from sslgap import config as config_lib
from sslgap import folder_paths
from sslgap import results
from sslgap import sweep
from sweep_cli import assert_same_grid, grid, module
from sweep_cli import run as cli

WHOLE = 10**9  # more intervals per segment than any run has: one call


@pytest.mark.parametrize('name,preset', [
    ('init_scale_heatmap', 'small'),  # mini-batch SGD
    ('fig2_parity_gd', 'small'),  # full-batch GD over phase datasets
    ('fig19_auto_schedule', 'small'),  # the auto schedule moves its phase in the state
    ('fig4_random_labels', 'small'),  # random-label phases
    ('tfm_fig30_param_source', 'small'),  # per-group data (W_Q, W_K online, the rest on the subset), AdamW
])
def test_a_run_in_segments_equals_it_in_one_call(name, preset):
  config = golden.reduced(golden.load_config(name, preset))
  for axis, values in config_lib.sweep_axes(config):
    config.sweep[axis] = tuple(values[-1:]) if axis != 'seed' else tuple(values)
  config.engine.segment_intervals = WHOLE
  plan, whole = sweep.run_sweep(config, call_width=2)
  config.engine.segment_intervals = 1
  executor = sweep.Executor(sweep.make_plan(config, call_width=2))
  assert executor.segment_intervals(plan.subgrids[0], 2) == 1
  _, split = sweep.run_sweep(config, call_width=2)
  assert set(split) == set(whole)
  for metric in whole:
    np.testing.assert_array_equal(split[metric], whole[metric], err_msg=metric)


# One chunk of 12 runs, 40 evaluation intervals computed one a segment, a checkpoint at every segment.
SEGMENTED = ['--config.train.steps=4000', '--config.train.eval_every=100', '--config.engine.segment_intervals=1',
             '--config.engine.checkpoint_minutes=0.0001', '--chunk_size=12', '--config.engine.call_width=12']


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  out = tmp_path_factory.mktemp('whole')
  cli(out, *SEGMENTED, '--quiet')
  return grid(out)


def _started(out, process, timeout=120):
  """Waits until the first chunk has a checkpoint."""
  deadline = time.time() + timeout
  while time.time() < deadline and not os.path.exists(folder_paths.partial_path(out, 0)):
    assert process.poll() is None, process.communicate()[1]
    time.sleep(0.02)
  assert os.path.exists(folder_paths.partial_path(out, 0))


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGKILL])
def test_a_chunk_stopped_mid_run_resumes_from_its_checkpoint(uninterrupted, tmp_path, signum):
  """SIGTERM: a checkpoint at the next segment, exit 143; SIGKILL: the last periodic checkpoint. Either
  way the rerun continues the chunk from there, not from step 0, and ends in the uninterrupted grid."""
  out = tmp_path / 'stopped'
  process = cli(out, *SEGMENTED, wait=False)
  _started(out, process)
  process.send_signal(signum)
  _, stderr = process.communicate(timeout=120)
  assert process.returncode in ((128 + signum,) if signum == signal.SIGTERM else (-signum, 128 + signum)), stderr
  if signum == signal.SIGTERM:
    assert 'chunk 0 stopped at interval' in stderr and 'saved as its checkpoint' in stderr
  assert not chunk_files.find(out) and os.path.exists(folder_paths.partial_path(out, 0))
  log = cli(out, *SEGMENTED)
  resumed_at = int(re.search(r'chunk 0 resumes from its checkpoint: 0 of its calls done, the next at interval (\d+) '
                             r'of 40', log).group(1))
  assert 0 < resumed_at < 40
  assert not os.path.exists(folder_paths.partial_path(out, 0))
  assert_same_grid(grid(out), uninterrupted, exact=True)


def test_a_damaged_checkpoint_is_named_and_the_chunk_starts_over(uninterrupted, tmp_path):
  out = tmp_path / 'damaged'
  process = cli(out, *SEGMENTED, wait=False)
  _started(out, process)
  process.send_signal(signal.SIGKILL)
  process.communicate(timeout=60)
  path = folder_paths.partial_path(out, 0)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)
  log = cli(out, *SEGMENTED)
  assert 'is damaged' in log and 'resumes from its checkpoint' not in log
  assert_same_grid(grid(out), uninterrupted, exact=True)


def test_a_partial_merge_holds_the_curves_of_the_chunks_in_flight(uninterrupted, tmp_path):
  """merge --allow_missing takes a running chunk's evaluations up to its checkpoint (NaN after), and
  says per run how many it has; the finished grid replaces them."""
  out = tmp_path / 'watched'
  process = cli(out, *SEGMENTED, wait=False)
  _started(out, process)
  process.send_signal(signal.SIGTERM)
  process.communicate(timeout=120)
  module('sslgap.merge', out, '--allow_missing')
  partial = results.load(str(out / 'init_scale_heatmap.npz'))
  done = partial.evaluations_done
  assert not partial.finished.any() and done.min() == done.max() and 1 < done.max() < len(partial.eval_steps)
  k = int(done.max())
  whole = uninterrupted['test_acc']
  np.testing.assert_array_equal(partial['test_acc'][..., :k], whole[..., :k])
  assert np.isnan(partial['test_acc'][..., k:]).all()
  stdout, _ = module('sslgap.status', out)
  assert f'chunk 0: checkpoint at interval {k - 1} of 40' in stdout
  cli(out, *SEGMENTED)
  final = results.load(str(out / 'init_scale_heatmap.npz'))
  assert final.finished.all() and (final.evaluations_done == len(final.eval_steps)).all()
  assert_same_grid(final, uninterrupted, exact=True)
