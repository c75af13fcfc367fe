"""A cluster is hostile: preemption, shards that start together, crashes mid-write, shared folders,
other hardware. Each bug found on the way to paper scale is a test here."""

import errno
import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import time

import jax
import numpy as np
import pytest

from sslgap import config as config_lib
from sslgap import files
from sslgap import rehearse
from sslgap import results
from sslgap import runner
from sslgap import spec as spec_lib
from sslgap import chunk_files
from sslgap import folder_paths
from sslgap import leases
from sslgap import plan_file
from sslgap import sweep
from sweep_cli import LONGER, ROOT, SHORT, assert_same_grid, env, grid, module
from sweep_cli import run_in_process, module_in_process, wait_until
from sweep_cli import run as cli


@pytest.fixture(scope='module')
def reference(reference_sweep):
  """The grid of one chunk of all 12 runs (computed once per run of the suite: conftest)."""
  return grid(reference_sweep[0])


def test_concurrent_processes_agree_on_one_plan(tmp_path):
  """Shards of a job array start together: every one reads the same, whole plan.json."""
  code = ('import json, sys\nfrom sslgap import plan_file\n'
          'record = plan_file.plan_record("n", json.dumps({"x": int(sys.argv[2])}), [("seed", [0, 1])], [0], '
          'plan_file.layout_record(int(sys.argv[2]), 1, {"kind": "cpu"}, 1), {})\n'
          'print(plan_file.open_plan(sys.argv[1], record)["layouts"][0]["chunk_size"])\n')
  processes = [subprocess.Popen([sys.executable, '-c', code, str(tmp_path), '7'], cwd=ROOT, env=env(),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(12)]
  outputs = [p.communicate() for p in processes]
  assert all(p.returncode == 0 for p in processes), [o[1] for o in outputs]
  assert {o[0].strip() for o in outputs} == {'7'}
  assert sorted(os.listdir(folder_paths.chunk_dir(tmp_path))) == ['plan.json']  # no temporary file left
  with open(folder_paths.plan_path(tmp_path)) as f:
    assert json.load(f)['layouts'][0]['chunk_size'] == 7


def test_a_damaged_plan_is_named(tmp_path):
  os.makedirs(folder_paths.chunk_dir(tmp_path))
  open(folder_paths.plan_path(tmp_path), 'w').close()  # what the old non-atomic create could leave
  stderr = run_in_process(tmp_path, *SHORT, expect=2)
  assert 'plan.json is damaged' in stderr and '--fresh' in stderr and len(stderr.strip().splitlines()) == 1


def test_a_truncated_chunk_is_named_and_recomputed(reference, tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=4', '--keep_chunks', '--quiet')
  path = folder_paths.chunk_path(tmp_path, 1)
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) // 2)  # a node crashed mid-write on a filesystem without fsync
  os.remove(tmp_path / 'init_scale_heatmap.npz')
  log = cli(tmp_path, *SHORT, '--chunk_size=4')
  assert 'chunk_000001.npz is damaged' in log and '(2 already done)' in log
  assert os.path.exists(path + '.damaged') is False  # removed with the other chunk files after the merge
  assert_same_grid(grid(tmp_path), reference)


def test_two_processes_on_one_folder_split_the_work_and_end_in_one_grid(tmp_path):
  """Two processes on one shard: neither computes a chunk twice (the one that waits for the last chunk
  finds it in the merged grid, though the merge removed its file), and no stray chunk is left."""
  first, second = (cli(tmp_path, *LONGER, '--quiet', wait=False) for _ in range(2))
  logs = [p.communicate()[1] for p in (first, second)]
  assert first.returncode == 0 and second.returncode == 0, logs
  counts = [len(re.findall(r'^chunk \d+ done', log, re.M)) for log in logs]  # --quiet: a line per chunk
  assert sum(counts) == 12 and min(counts) >= 1, (counts, logs)  # nothing computed twice
  assert sorted(os.listdir(folder_paths.chunk_dir(tmp_path))) == ['plan.json']  # no stray chunk, lease or temporary
  assert np.all(grid(tmp_path).finished)
  stdout, _ = module('sslgap.status', tmp_path)
  assert '12 of 12 runs, 12 of 12 chunks done' in stdout and 'complete; grid:' in stdout, stdout


def test_a_second_signal_abandons_the_chunk_at_once_and_leaves_no_lease(tmp_path):
  process = cli(tmp_path, '--config.train.steps=200000', '--config.train.eval_every=100000', '--chunk_size=1',
                '--quiet', wait=False)
  wait_until(lambda: any(n.endswith('.lease') for n in _listing(tmp_path)), process, 'a lease was taken')
  time.sleep(0.5)  # XLA is computing the first chunk (about 10 s of work)
  process.send_signal(signal.SIGTERM)
  time.sleep(0.3)
  process.send_signal(signal.SIGTERM)
  _, stderr = process.communicate()
  assert process.returncode == 128 + signal.SIGTERM, stderr
  assert 'abandoning the current chunk' in stderr
  # Neither the chunk (the first signal's wait) nor a checkpoint at its next segment was written: the
  # second signal did not wait for either, however long the busy machine took to get there.
  assert not chunk_files.find(tmp_path) and not chunk_files.partials(tmp_path), _listing(tmp_path)
  assert not [n for n in _listing(tmp_path) if n.endswith(('.lease', '.tmp'))]


def _listing(out):
  return os.listdir(folder_paths.chunk_dir(out)) if os.path.isdir(folder_paths.chunk_dir(out)) else []


def test_leases_are_taken_over_only_from_the_dead_and_released_only_by_their_owner(tmp_path, monkeypatch):
  os.makedirs(folder_paths.chunk_dir(tmp_path))
  first, second = leases.Leases(str(tmp_path)), leases.Leases(str(tmp_path))
  try:
    assert first.take(0, 3) and not second.take(0, 3)
    second.release(0, 3)  # not its lease: it stays
    assert leases.lease_is_live(folder_paths.lease_path(tmp_path, 0, 3))
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True)
    with open(folder_paths.lease_path(tmp_path, 0, 4), 'w') as f:
      json.dump({'host': leases.HOST, 'pid': int(dead.stdout), 'token': 'gone'}, f)
    assert second.take(0, 4)  # a dead process's lease on this host
    assert leases.read_lease(folder_paths.lease_path(tmp_path, 0, 4))[0]['token'] == second.token
    monkeypatch.setattr(leases, 'JOB', '4242')
    with open(folder_paths.lease_path(tmp_path, 0, 5), 'w') as f:
      json.dump({'host': leases.HOST, 'pid': os.getppid(), 'job': '4242', 'token': 'before the requeue'}, f)
    assert not leases.lease_is_live(folder_paths.lease_path(tmp_path, 0, 5)) and second.take(0, 5)  # this job, before a requeue
    old = folder_paths.lease_path(tmp_path, 0, 6)
    with open(old, 'w') as f:
      json.dump({'host': 'another-host', 'pid': 1, 'token': 'far away'}, f)
    assert leases.lease_is_live(old)
    os.utime(old, (time.time() - leases.LEASE_STALE_S - 1,) * 2)
    assert not leases.lease_is_live(old) and second.take(0, 6)  # not refreshed for too long
  finally:
    first.close()
    second.close()
  assert not [n for n in os.listdir(folder_paths.chunk_dir(tmp_path)) if n.endswith(('.lease', '.stale'))]


def test_merges_that_run_together_take_turns_and_never_shrink_a_grid(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=3', '--keep_chunks', '--quiet')
  os.remove(tmp_path / 'init_scale_heatmap.npz')
  shutil.copy(folder_paths.chunk_path(tmp_path, 0), tmp_path / 'chunk_0_copy')
  merges = [subprocess.Popen([sys.executable, '-m', 'sslgap.merge', str(tmp_path)], cwd=ROOT, env=env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
  outputs = [m.communicate() for m in merges]
  assert all(m.returncode == 0 for m in merges), outputs
  assert np.all(grid(tmp_path).finished) and not chunk_files.find(tmp_path)
  complete = grid(tmp_path)
  shutil.copy(tmp_path / 'chunk_0_copy', folder_paths.chunk_path(tmp_path, 0))  # a chunk again, the others gone
  stdout, _ = module('sslgap.merge', tmp_path, '--allow_missing')
  assert 'runs finished' not in stdout  # still the whole grid
  assert_same_grid(grid(tmp_path), complete, exact=True)


def test_files_follow_the_umask(tmp_path):
  previous = os.umask(0o027)
  try:
    cli(tmp_path, *SHORT, '--chunk_size=6', '--keep_chunks', '--quiet', process=True)  # the umask is the process's
  finally:
    os.umask(previous)
  made = [tmp_path / 'init_scale_heatmap.npz', tmp_path / 'init_scale_heatmap.png', folder_paths.plan_path(tmp_path),
          folder_paths.chunk_path(tmp_path, 0)]
  assert {oct(stat.S_IMODE(os.stat(p).st_mode)) for p in made} == {oct(0o640)}


def test_replan_recuts_only_the_missing_runs_and_keeps_results(reference, tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=4', '--shard=0/3', '--quiet')  # chunk 0 of 3 done
  record = plan_file.read_plan(tmp_path)
  record['layouts'][0]['device']['kind'] = 'NVIDIA H100 80GB HBM3'  # as if planned on a GPU
  with open(folder_paths.plan_path(tmp_path), 'w') as f:
    json.dump(record, f)
  log = cli(tmp_path, *SHORT, '--shard=0/3', '--quiet')
  assert 'was planned on NVIDIA H100 80GB HBM3 (chunks of 4 runs)' in log and '--replan' in log
  log = cli(tmp_path, *SHORT, '--replan', '--chunk_size=3', '--keep_chunks')
  assert 'replanned' in log and '8 run(s) still missing, in 3 chunk(s) of up to 3 runs' in log
  assert set(chunk_files.find(tmp_path)) == {(0, 0), (1, 0), (1, 1), (1, 2)}
  assert_same_grid(grid(tmp_path), reference)


def test_fresh_leaves_no_stale_grid_of_another_config(tmp_path):
  cli(tmp_path, *SHORT, '--config.name=first', '--quiet')
  assert os.path.exists(tmp_path / 'first.npz') and os.path.exists(tmp_path / 'first.png')
  cli(tmp_path, *SHORT, '--config.name=second', '--config.hp.lr=0.2', '--fresh', '--shard=0/2', '--chunk_size=6')
  assert not os.path.exists(tmp_path / 'first.npz') and not os.path.exists(tmp_path / 'first.png')


def test_status_and_a_partial_merge_of_a_half_finished_folder(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=3', '--shard=1/2', '--quiet')  # chunks 1 and 3 of 4
  stdout, _ = module('sslgap.status', tmp_path, '--json')
  status = json.loads(stdout)
  assert status['chunks_done'] == 2 and status['chunks_total'] == 4 and status['runs_done'] == 6
  assert status['per_shard'] == [{'shard': '0/2', 'chunks_done': 0, 'chunks_total': 2},
                                 {'shard': '1/2', 'chunks_done': 2, 'chunks_total': 2}]
  assert status['runs_per_second'] > 0 and status['eta_seconds'] > 0 and status['diverged_runs'] == 0
  text, _ = module('sslgap.status', tmp_path)
  assert '6 of 12 runs, 2 of 4 chunks done' in text and 'per shard: 0/2 0/2, 1/2 2/2' in text
  reader_gone = subprocess.Popen([sys.executable, '-m', 'sslgap.status', str(tmp_path)], cwd=ROOT, env=env(),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
  reader_gone.stdout.close()  # as `| head` does once it has read enough
  assert reader_gone.wait() == 0 and reader_gone.stderr.read() == b''
  _, stderr = module_in_process('sslgap.merge', tmp_path, expect=2)
  assert 'have no finished chunk' in stderr and '--allow_missing' in stderr
  stdout, _ = module('sslgap.merge', tmp_path, '--allow_missing')
  assert '6 of 12 runs finished' in stdout and '(0 diverged run(s)' in stdout  # missing is not diverged
  r = grid(tmp_path)
  assert r.finished.sum() == 6
  assert np.all(np.isnan(r['test_loss'][~r.finished])) and np.all(np.isfinite(r['test_loss'][r.finished]))
  assert len(chunk_files.find(tmp_path)) == 2  # a partial merge keeps them


def test_rehearsal_projects_the_whole_sweep(tmp_path):
  log = cli(tmp_path, *SHORT, '--chunk_size=3', '--max_chunks=1', '--shards=2')
  line = next(l for l in log.splitlines() if l.startswith('projected:'))
  assert '4 chunk(s), 12 runs' in line and 'with 2 shards' in line
  assert 'rehearsal: kernel 0: 1 chunk(s) of 3 runs' in log and 'MB measured (XLA, two chunk widths)' in log
  report = json.load(open(tmp_path / 'rehearsal.json'))
  assert report['chunks'] == 4 and len(report['timings']) == 1 and report['projected_seconds'] > 0
  assert len(chunk_files.find(tmp_path)) == 1 and not os.path.exists(tmp_path / 'init_scale_heatmap.npz')


def _plan_with_two_kernels(tiny_config):
  tiny_config.sweep.model__width = (16, 32)
  tiny_config.sweep.seed = tuple(range(6))
  return sweep.make_plan(tiny_config, chunk_size=4)  # per kernel: 6 runs in chunks of 4 and 2


def test_projection_arithmetic(tiny_config):
  plan = _plan_with_two_kernels(tiny_config)
  assert plan.num_chunks == 4 and [plan.kernel_of(c) for c in range(4)] == [0, 0, 1, 1]
  timing = rehearse.KernelTiming(0, '', chunk_seconds=[2.0, 4.0, 3.0], chunk_runs=[4, 4, 4], compile_seconds=10.0)
  projection = rehearse.project(plan, {0: timing}, shards=2, finished={0}, flops={0: 1.0, 1: 2.0})
  # kernel 0: 3 s a chunk (the median); kernel 1, not timed: 2x the FLOPs, so 6 s a chunk.
  assert projection.total_seconds == pytest.approx(2 * 3 + 2 * 6 + 10 + 10)
  assert projection.remaining_seconds == pytest.approx(3 + 2 * 6 + 10 + 10)
  assert projection.shard_seconds == pytest.approx([3 + 6 + 20, 3 + 6 + 20])  # chunks 0, 2 and 1, 3
  assert projection.scaled_kernels == [1]
  assert rehearse.choose_chunks(plan, (0, 1), set(), 3) == [0, 2, 1]
  assert rehearse.choose_chunks(plan, (0, 1), {0}, 3) == [1, 2, 3]


def test_shortened_rehearsal_keeps_evaluations_and_scales_phases(tiny_config):
  c = tiny_config
  c.train.steps, c.train.eval_every = 1000, 100
  c.hp.phase_sizes, c.hp.phase_lengths = (32, 'online'), (300,)
  short = rehearse.shortened(c, 100)
  assert (short.train.steps, short.train.eval_every, tuple(short.hp.phase_lengths)) == (100, 10, (30,))
  # 11 evaluations of 256 test and 64 train examples, a tenth of them now: the same share of the work.
  assert (short.task.test_size, short.data.eval_train_size) == (26, 16)
  assert rehearse.run_flops(spec_lib.derive(c)) / rehearse.run_flops(spec_lib.derive(short)) == pytest.approx(
      (6 * 1000 * 16 + 2 * 11 * 320) / (6 * 100 * 16 + 2 * 11 * (26 + 16)))


def test_a_chunk_out_of_device_memory_runs_in_halves(tiny_config, monkeypatch):
  tiny_config.sweep.seed = tuple(range(8))
  plan = sweep.make_plan(tiny_config, chunk_size=8, num_devices=1)
  executor = sweep.Executor(plan)
  whole, _ = executor.run_chunk(0)
  calls = []

  def execute(compiled, hp, data):
    calls.append(hp['seed'].shape[0])
    if hp['seed'].shape[0] > 2:
      raise jax.errors.JaxRuntimeError('RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1 bytes.')
    return compiled(hp, data)

  monkeypatch.setattr(sweep, '_execute', execute)
  halves, where = executor.run_chunk(0)
  assert calls[:3] == [8, 4, 2] and executor.splits == 2
  assert calls[3:] == [2, 2, 2]  # the remaining runs go straight at the width that fit
  for name in whole:
    np.testing.assert_allclose(halves[name], whole[name], rtol=1e-6, atol=1e-7, err_msg=name)
  other = jax.errors.JaxRuntimeError('INTERNAL: something else')
  monkeypatch.setattr(sweep, '_execute', lambda *a: (_ for _ in ()).throw(other))
  with pytest.raises(jax.errors.JaxRuntimeError, match='INTERNAL'):
    executor.run_chunk(0)  # only running out of memory is retried


def test_measured_memory_plans_from_xla_at_two_widths(tiny_config):
  tiny_config.sweep.seed = tuple(range(1000))
  tiny_config.engine.memory_model = 'measured'
  tiny_config.engine.cpu_cache_bytes = '1GB'  # memory alone decides
  plan = sweep.make_plan(tiny_config, memory_budget='50MB', num_devices=1)
  assert plan.measured and plan.measured['per_run'] > 0
  assert plan.chunk_size == min(1000, int((50e6 - plan.measured['fixed']) // plan.measured['per_run']))
  assert 'XLA (measured)' in plan.describe() and 'formula' in plan.describe()


def test_fit_of_fixed_and_per_run_bytes():
  assert sweep.memory.fit_fixed_and_per_run(64, 1000 + 64 * 10, 128, 1000 + 128 * 10) == (1000, 10)


def test_dry_run_plans_for_a_named_accelerator(tmp_path):
  stdout = subprocess.run([sys.executable, 'experiments/init_scale_heatmap.py', '--config=sweeps/init_scale_heatmap.py',
                           '--dry_run', '--device=h100x8'], cwd=ROOT, env=env(), capture_output=True, text=True)
  assert stdout.returncode == 0, stdout.stderr
  text = stdout.stdout
  assert '1,672,704 runs' in text and 'over 8 device(s) (h100)' in text and 'budget 64 GB per device' in text
  assert 'formula' in text


@pytest.mark.parametrize('args,message', [
    (['--shard=3/2'], 'shard 3/2: need 0 <= i < N'),
    (['--shard=x'], 'shard must look like i/N'),
    (['--config.hp.lrr=0.1'], 'config.hp.lrr: unknown key; did you mean hp.lr?'),
    (['--config.sweep.bogus=(1,2)'], "config.sweep.bogus: 'bogus' is neither an hp key"),
    (['--device=h100'], '--device plans for another machine: use it with --dry_run'),
    (['--memory_budget=lots'], "memory_budget must be a size like '60GB'"),
    (['--chunk_size=0'], 'chunk_size'),
    (['--nonsense'], 'nonsense'),
])
def test_bad_flags_end_in_one_line_and_exit_code_2(tmp_path, args, message):
  stderr = run_in_process(tmp_path / 'out', *SHORT, *args, expect=2)
  assert message in stderr and len(stderr.strip().splitlines()) == 1 and 'Traceback' not in stderr, stderr


def test_bad_paths_end_in_one_line_and_exit_code_2(tmp_path):
  (tmp_path / 'a_file').write_text('x')
  stderr = run_in_process(tmp_path / 'a_file', *SHORT, expect=2)
  assert 'a_file: exists and is not a folder' in stderr and len(stderr.strip().splitlines()) == 1
  stderr = run_in_process('/proc/sslgap_cannot_write_here', *SHORT, expect=2)
  assert '/proc/sslgap_cannot_write_here' in stderr and len(stderr.strip().splitlines()) == 1
  done = subprocess.run([sys.executable, 'experiments/init_scale_heatmap.py', '--config=sweeps/nope.py:small'],
                        cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == 2 and "no such config file 'sweeps/nope.py'" in done.stderr
  done = subprocess.run([sys.executable, 'experiments/learning_curves.py'], cwd=ROOT, env=env(), capture_output=True,
                        text=True)
  assert done.returncode == 2 and '--config' in done.stderr and len(done.stderr.strip().splitlines()) == 1
  _, stderr = module_in_process('sslgap.merge', tmp_path / 'missing', expect=2)
  assert 'missing: no such folder' in stderr
  _, stderr = module_in_process('sslgap.status', tmp_path, expect=2)
  assert 'not a sweep folder' in stderr


def test_a_new_sweep_axis_can_be_added_on_the_command_line(tmp_path):
  cli(tmp_path, *SHORT, '--config.sweep.lr=(0.05,0.2)', '--quiet')
  r = grid(tmp_path)
  assert r.axis_names[-1] == 'lr' and r.coords['lr'].tolist() == [0.05, 0.2]


def test_results_load_names_a_file_that_is_not_a_grid(tmp_path):
  np.save(tmp_path / 'array.npy', np.zeros(3))
  np.savez(tmp_path / 'other.npz', a=np.zeros(3))
  (tmp_path / 'text.npz').write_text('not a zip')
  np.savez(tmp_path / 'pickled.npz', axis_names=np.array([{'a': 1}], dtype=object), eval_steps=np.zeros(1),
           config_json=np.array('{}'))
  for name, message in [('array.npy', 'single numpy array'), ('other.npz', "lacks ['axis_names'"),
                        ('text.npz', 'is text, not an sslgap result grid'), ('pickled.npz', 'holds Python objects'),
                        ('missing.npz', 'no such file')]:
    with pytest.raises(results.ResultsError, match=re.escape(message)) as error:
      results.load(tmp_path / name)
    assert 'allow_pickle' not in str(error.value) and name in str(error.value)


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGUSR2])
def test_a_preempted_or_timed_out_shard_is_requeued_by_submitit(uninterrupted_local, tmp_path, signum):
  """Slurm preempts with SIGTERM and warns of the time limit with SIGUSR2: either way the shard saves
  its chunk, submitit requeues it, and the new task resumes from the chunk files."""
  submitit = pytest.importorskip('submitit')
  from sslgap import launch
  config = _longer_config()
  executor = submitit.AutoExecutor(folder=tmp_path / 'submitit', cluster='local')
  executor.update_parameters(timeout_min=10)
  job = executor.submit(launch.ShardJob(), config, str(tmp_path), 0, 1, runner.Options(chunk_size=1, keep_chunks=True))
  wait_until(lambda: chunk_files.find(tmp_path), job, 'the job finished a chunk')
  for task in _children(int(job.job_id)):  # the controller's worker: where Slurm's signal lands
    os.kill(task, signum)
  resumed = job.result()  # the summary of the requeued task, which finished the sweep
  done_before = int(re.search(r'\((\d+) already done\)', resumed).group(1))
  assert 1 <= done_before < 12, resumed
  logs = job.stderr() or ''
  assert f'{signal.Signals(signum).name} received' in logs and 'requeueing' in logs, logs
  assert_same_grid(grid(tmp_path), uninterrupted_local, exact=True)


def _children(pid):
  found = []
  for stat_file in glob.glob('/proc/[0-9]*/stat'):
    try:
      with open(stat_file) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == pid:
      found.append(int(stat_file.split('/')[2]))
  assert found, f'no child process of {pid}'
  return found


def test_a_full_disk_is_named_and_keeps_the_finished_chunks(tmp_path, monkeypatch):
  config = _longer_config()
  config.train.steps, config.train.eval_every = 20, 10
  real_savez, calls = np.savez, []

  def savez(file, **arrays):
    calls.append(1)
    if len(calls) == 3:
      raise OSError(errno.ENOSPC, 'No space left on device')
    return real_savez(file, **arrays)

  monkeypatch.setattr(results.np, 'savez', savez)
  with pytest.raises(files.FileError, match=r'chunk_000002\.npz: cannot write \(No space left on device\)'):
    runner.run_to_folder(config, str(tmp_path), runner.Options(chunk_size=4, progress=False))
  assert set(chunk_files.find(tmp_path)) == {(0, 0), (0, 1)}  # what was written stays
  assert not [n for n in os.listdir(folder_paths.chunk_dir(tmp_path)) if n.endswith(('.tmp', '.lease'))]


def _longer_config():
  c = config_lib.base_config()
  c.name = 'init_scale_heatmap'
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.data.eval_train_size = 64
  c.model.hidden_layers, c.model.width = 2, 16
  c.train.batch_size, c.train.steps, c.train.eval_every = 16, 600, 300
  c.sweep.init_scale_first = (0.5, 1.0, 2.0)
  c.sweep.dataset_size = (32, 256)
  c.sweep.seed = (0, 1)
  return c


@pytest.fixture(scope='module')
def uninterrupted_local(tmp_path_factory):
  out = tmp_path_factory.mktemp('uninterrupted_local')
  runner.run_to_folder(_longer_config(), str(out), runner.Options(chunk_size=1, progress=False))
  return grid(out)
