"""A chunk computed in segments (a few evaluation intervals a call, its state carried between calls)
equals it computed in one call, bitwise, for every gradient source and schedule."""

import os
import re
import signal

import numpy as np
import pytest

import golden
from sslgap import chunk_files
from sslgap import config as config_lib
from sslgap import folder_paths
from sslgap import results
from sslgap import sweep
from sweep_cli import assert_same_grid, cpu_hog, grid, module, wait_until
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
  # A Transformer at one layer: the state carried between segments is one pytree at any depth, and the
  # preset's second layer made this test 21.5 s against 15.7 (tracing and compiling).
  config = golden.narrow(golden.reduced(golden.load_config(name, preset)), layers=1)
  first = {axis: values[0] for axis, values in config_lib.sweep_axes(config)}
  for axis, values in config_lib.sweep_axes(config):
    config.sweep[axis] = tuple(values[-1:]) if axis != 'seed' else tuple(values)
  if config.data.mode == 'full_batch':  # each step computes the whole set: its smallest keeps this seconds
    config.sweep.dataset_size = (first['dataset_size'],)
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


# A Transformer sweep of one chunk (6 runs: 3 schedules x 2 seeds), 20 intervals of 8 steps, a checkpoint
# at each; small evaluation sets, which would otherwise take most of its time.
TRANSFORMER = dict(script='experiments/learning_curves.py', tiny=False, name='tfm_fig1_parity', args=[
    '--config=sweeps/tfm_fig1.py:small', '--config.model.dim=16', '--config.model.layers=1',
    '--config.task.test_size=256', '--config.data.eval_train_size=256', '--config.data.eval_batch_size=256',
    '--config.sweep.lr=(0.003,)', '--config.sweep.seed=(0,1)', '--config.train.steps=160',
    '--config.train.eval_every=8', '--config.engine.segment_intervals=1', '--config.engine.checkpoint_minutes=0.0001',
    '--chunk_size=6', '--config.engine.call_width=6'])


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  out = tmp_path_factory.mktemp('whole')
  cli(out, *SEGMENTED, '--quiet')
  return grid(out)


@pytest.fixture(scope='module')
def uninterrupted_on_two_devices(tmp_path_factory):
  out = tmp_path_factory.mktemp('whole_two')
  cli(out, *SEGMENTED, '--quiet', devices=2)
  return grid(out)


@pytest.fixture(scope='module')
def uninterrupted_transformer(tmp_path_factory):
  out = tmp_path_factory.mktemp('whole_transformer')
  cli(out, *TRANSFORMER['args'], '--quiet', script=TRANSFORMER['script'], tiny=False)
  return grid(out, TRANSFORMER['name'])


def _started(out, process):
  """Waits until the first chunk has a checkpoint."""
  wait_until(lambda: os.path.exists(folder_paths.partial_path(out, 0)), process, 'chunk 0 had a checkpoint')


@pytest.mark.parametrize('signum,workload', [(signal.SIGTERM, 'mlp'), (signal.SIGKILL, 'transformer')])
def test_a_chunk_stopped_mid_run_resumes_from_its_checkpoint(request, tmp_path, signum, workload):
  """SIGTERM: a checkpoint at the next segment, exit 143; SIGKILL: the last periodic checkpoint. Either
  way the rerun continues the chunk from there, not from step 0 (the log says from which step), and
  ends in the uninterrupted grid, bitwise."""
  if workload == 'mlp':
    args, kwargs, name, steps, intervals = SEGMENTED, {}, 'init_scale_heatmap', 4000, 40
    whole = request.getfixturevalue('uninterrupted')
  else:
    args, name, steps, intervals = TRANSFORMER['args'], TRANSFORMER['name'], 160, 20
    kwargs = dict(script=TRANSFORMER['script'], tiny=False)
    whole = request.getfixturevalue('uninterrupted_transformer')
  out = tmp_path / 'stopped'
  process = cli(out, *args, wait=False, **kwargs)
  _started(out, process)
  process.send_signal(signum)
  _, stderr = process.communicate()
  assert process.returncode in ((128 + signum,) if signum == signal.SIGTERM else (-signum, 128 + signum)), stderr
  if signum == signal.SIGTERM:
    assert 'chunk 0 stopped at interval' in stderr and 'saved as its checkpoint' in stderr
  assert not chunk_files.find(out) and os.path.exists(folder_paths.partial_path(out, 0))
  log = cli(out, *args, **kwargs)
  found = re.search(rf'chunk 0 resumes from its checkpoint at step ([\d,]+) of {steps:,} \(interval (\d+) of {intervals}\)', log)
  step, resumed_at = int(found.group(1).replace(',', '')), int(found.group(2))
  assert 0 < resumed_at < intervals and step == steps // intervals * resumed_at
  assert not os.path.exists(folder_paths.partial_path(out, 0))
  assert_same_grid(grid(out, name), whole, exact=True)


def test_a_resumed_chunks_time_counts_its_checkpoints_seconds(tmp_path, monkeypatch):
  """A chunk resumed from a checkpoint had computed for the checkpoint's seconds before this process began:
  its file and the summary's run-steps/s (which a design prices its confirmation by) count them. Counted
  from the resume alone, a design priced a confirmation at 162 s that took 529."""
  from sslgap.engine import runner
  from sweep_cli import SHORT
  real = runner._FolderRun._resume
  monkeypatch.setattr(runner._FolderRun, '_resume', lambda self, chunk_id: (real(self, chunk_id)[0], 1000.0))
  cli(tmp_path, *SHORT, '--chunk_size=12', '--keep_chunks', '--quiet')  # in this process: the patch holds
  [path] = chunk_files.find(tmp_path).values()
  with np.load(path) as chunk:
    assert 1000.0 <= float(chunk['seconds']) < 1000.0 + 600


def test_a_checkpoint_made_on_two_devices_is_not_continued_on_one(uninterrupted, tmp_path):
  """A checkpoint records the device kind and count and the call width it was computed at: a rerun under
  other numerics (here 1 CPU device instead of 2) says so and computes the chunk from step 0, so that no
  run is half one numerics, half the other; the grid is the uninterrupted 1-device one, bitwise."""
  out = tmp_path / 'moved'
  process = cli(out, *SEGMENTED, wait=False, devices=2)
  _started(out, process)
  process.send_signal(signal.SIGKILL)
  process.communicate()
  log = cli(out, *SEGMENTED, devices=1)
  assert ("chunk 0's checkpoint was computed 12 runs per call on 2 x cpu, this process computes 12 runs per call "
          'on cpu: its numbers would differ in the last bits, so the chunk starts over from step 0') in log
  assert 'resumes from its checkpoint' not in log and 'was planned on 2 x cpu' in log
  assert_same_grid(grid(out), uninterrupted, exact=True)


def test_a_damaged_checkpoint_is_named_and_the_chunk_starts_over(uninterrupted, tmp_path):
  out = tmp_path / 'damaged'
  process = cli(out, *SEGMENTED, wait=False)
  _started(out, process)
  process.send_signal(signal.SIGKILL)
  process.communicate()
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
  process.communicate()
  module('sslgap.merge', out, '--allow_missing')
  partial = results.load(str(out / 'init_scale_heatmap.npz'))
  done = partial.evaluations_done
  assert not partial.finished.any() and done.min() == done.max() and 1 < done.max() < len(partial.eval_steps)
  k = int(done.max())
  whole = uninterrupted['test_acc']
  np.testing.assert_array_equal(partial['test_acc'][..., :k], whole[..., :k])
  assert np.isnan(partial['test_acc'][..., k:]).all()
  stdout, _ = module('sslgap.status', out)
  assert f'chunk 0: checkpoint at interval {k - 1} of 40 (step {100 * (k - 1):,} of 4,000' in stdout
  assert 'no process is computing it now (rerun the command to continue it)' in stdout  # it was stopped
  cli(out, *SEGMENTED)
  final = results.load(str(out / 'init_scale_heatmap.npz'))
  assert final.finished.all() and (final.evaluations_done == len(final.eval_steps)).all()
  assert_same_grid(final, uninterrupted, exact=True)


def test_two_processes_on_a_folder_with_a_checkpoint_resume_it_once(uninterrupted, tmp_path):
  """A killed process leaves a checkpoint and a dead lease: of two processes started together, the one
  that takes the lease resumes the chunk from the checkpoint, the other waits for it; one grid."""
  out = tmp_path / 'shared'
  process = cli(out, *SEGMENTED, wait=False)
  _started(out, process)
  process.send_signal(signal.SIGKILL)
  process.communicate()
  both = [cli(out, *SEGMENTED, wait=False) for _ in range(2)]
  logs = []
  for p in both:
    _, stderr = p.communicate()
    assert p.returncode == 0, stderr
    logs.append(stderr)
  assert sum('chunk 0 resumes from its checkpoint at step' in log for log in logs) == 1, logs
  assert not any('is damaged' in log for log in logs)
  assert not os.path.exists(folder_paths.partial_path(out, 0)) and not chunk_files.find(out)
  assert_same_grid(grid(out), uninterrupted, exact=True)


def test_a_shard_preempted_mid_chunk_under_submitit_is_requeued_and_resumes_the_chunk(uninterrupted_on_two_devices,
                                                                                     tmp_path, monkeypatch):
  """SIGTERM under submitit's local executor while the only chunk (longer than any signal delay) is in
  flight: the chunk checkpoints at its next segment, the job requeues itself (both on a machine busy with
  other work: a busy loop on every core), and the new task continues the chunk from there to the
  uninterrupted grid, bitwise. The job runs on as many devices as the reference (2), whatever this
  machine's core count: it inherits this process's environment."""
  submitit = pytest.importorskip('submitit')
  monkeypatch.setenv('XLA_FLAGS', '--xla_force_host_platform_device_count=2')
  from sslgap import launch
  from sslgap import runner
  from test_cluster import _children
  from sweep_cli import tiny_config
  config = tiny_config()
  config.train.steps, config.train.eval_every = 4000, 100
  config.engine.segment_intervals, config.engine.checkpoint_minutes, config.engine.call_width = 1, 0.0001, 12
  executor = submitit.AutoExecutor(folder=tmp_path / 'submitit', cluster='local')
  executor.update_parameters(timeout_min=30)
  with cpu_hog():  # busy while the job starts, computes and is signalled: where load moves what happens when
    job = executor.submit(launch.ShardJob(), config, str(tmp_path), 0, 1, runner.Options(chunk_size=12))
    wait_until(lambda: os.path.exists(folder_paths.partial_path(tmp_path, 0)), job, 'the job checkpointed its chunk')
    for task in _children(int(job.job_id)):
      os.kill(task, signal.SIGTERM)
    # The signalled task checkpoints and requeues on the busy machine; the requeued task then only continues
    # the chunk: kept to its end, the loops cost about 10 CPU-s more (the test alone: 43.6 against 33.5).
    wait_until(lambda: 'requeueing' in (job.stderr() or ''), job, 'the signalled task requeued the job')
  job.result()
  logs = job.stderr() or ''
  assert 'SIGTERM received' in logs and 'saved as its checkpoint' in logs and 'requeueing' in logs, logs
  assert re.search(r'chunk 0 resumes from its checkpoint at step [\d,]+ of 4,000', logs), logs
  assert 'over 2 device(s)' in logs, logs
  assert_same_grid(grid(tmp_path), uninterrupted_on_two_devices, exact=True)


def test_the_progress_bar_moves_per_segment_and_the_log_says_a_checkpoint_is_spaced_out(monkeypatch, tmp_path,
                                                                                        caplog):
  from sslgap import runner
  from sweep_cli import tiny_config
  updates = []

  class Bar:
    def __init__(self, **kwargs):
      self.total = kwargs.get('total')

    def __enter__(self):
      return self

    def __exit__(self, *exc):
      return False

    def update(self, n):
      updates.append(n)

    def set_postfix(self, **kwargs):
      pass

  monkeypatch.setattr(runner, 'tqdm', Bar)
  config = tiny_config()
  config.train.steps, config.train.eval_every = 400, 100
  config.engine.segment_intervals, config.engine.call_width, config.engine.checkpoint_budget = 1, 12, '1KB'
  with caplog.at_level('WARNING'):
    runner.run_to_folder(config, str(tmp_path), runner.Options(chunk_size=12))
  assert updates == [3.0, 3.0, 3.0, 3.0]  # 12 runs in 4 segments; the last one when the chunk is saved
  assert re.search(r'kernel 0: a checkpoint weighs [\d.]+ MB, over engine.checkpoint_budget 1KB: one every [\d.]+ min '
                   r'instead of 10', caplog.text), caplog.text


def test_a_checkpoint_over_the_budget_is_written_less_often(tiny_config):
  config = tiny_config
  config.train.steps, config.train.eval_every = 400, 100
  config.engine.segment_intervals = 1
  config.sweep.seed = tuple(range(4))
  plan = sweep.make_plan(config)
  spec, width = plan.subgrids[0].spec, plan.call_width
  weight = sweep.checkpoint_bytes(spec, width)
  config.engine.checkpoint_budget = ''
  assert sweep.checkpoint_minutes(config, spec, width) == (10.0, weight)
  config.engine.checkpoint_budget = f'{weight}B'
  assert sweep.checkpoint_minutes(config, spec, width) == (10.0, weight)  # at the budget: as set
  config.engine.checkpoint_budget = f'{weight // 4}B'
  minutes, _ = sweep.checkpoint_minutes(config, spec, width)
  assert minutes == pytest.approx(10.0 * weight / (weight // 4))
  assert (f'every {minutes:.3g} min (engine.checkpoint_minutes 10 stretched: over engine.checkpoint_budget '
          f'{weight // 4}B)') in sweep.make_plan(config).describe()


def test_scan_unroll_changes_at_most_the_last_bits_and_keeps_old_grids_hashes(tiny_config):
  import json
  config = tiny_config
  config.sweep.seed = (0, 1)
  config.train.steps, config.train.eval_every = 40, 10  # 10 steps an interval: unrolled 4, 4 and 2
  _, rolled = sweep.run_sweep(config, call_width=2)
  default_hash = results.config_hash(config_lib.to_json(config))
  before_the_option = json.loads(config_lib.to_json(config))
  del before_the_option['train']['scan_unroll']  # a grid written before train.scan_unroll existed
  assert results.config_hash(json.dumps(before_the_option)) == default_hash
  config.train.scan_unroll = 4
  assert results.config_hash(config_lib.to_json(config)) != default_hash
  _, unrolled = sweep.run_sweep(config, call_width=2)
  for metric in rolled:
    np.testing.assert_allclose(unrolled[metric], rolled[metric], rtol=1e-5, atol=1e-6, err_msg=metric)
