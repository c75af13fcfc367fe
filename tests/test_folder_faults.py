"""The second hostile pass (issue 28), each case a regression: a chunk size the folder clips, files a
killed writer leaves, checkpoints that are not the folder's, leases from a clock that runs ahead, a
partial grid read as diverged, and what a dry run and a resume say."""

import json
import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest

import sslgap
from sslgap import chunk_files
from sslgap import files
from sslgap import folder_paths
from sslgap import leases
from sslgap import runner
from sslgap import status as status_lib
from sweep_cli import ROOT, SHORT, env, grid, module, tiny_config
from sweep_cli import run_in_process, module_in_process
from sweep_cli import command as cli_command
from sweep_cli import run as cli


# --- a chunk size larger than a kernel's runs --------------------------------------------------------

def test_a_chunk_size_larger_than_the_runs_is_the_folders_own_from_the_command_line(tmp_path):
  """The plan clips --chunk_size to the runs a kernel has (12 here); the folder's check compares the
  clipped value, so the same command runs, resumes and finishes instead of refusing its own folder."""
  cli(tmp_path, *SHORT, '--chunk_size=100000', '--shard=0/2', '--quiet')
  with open(folder_paths.plan_path(tmp_path)) as f:
    assert json.load(f)['layouts'][0]['chunk_size'] == 12
  cli(tmp_path, *SHORT, '--chunk_size=100000', '--quiet')
  assert grid(tmp_path).finished.all()
  cli(tmp_path, *SHORT, '--chunk_size=5', '--fresh', '--shard=0/3', '--quiet')
  stderr = run_in_process(tmp_path, *SHORT, '--chunk_size=100000', expect=2)
  assert 'was started with chunks of 5 runs, not 12 (--chunk_size 100000, clipped to the runs of a kernel)' in stderr


def test_a_chunk_size_larger_than_the_runs_is_the_folders_own_in_sslgap_run(tmp_path):
  config = tiny_config()
  first = sslgap.run(config, out=str(tmp_path), chunk_size=10000, quiet=True)
  again = sslgap.run(config, out=str(tmp_path), chunk_size=10000, quiet=True)  # complete: read back
  np.testing.assert_array_equal(first['test_loss'], again['test_loss'])


# --- files a killed writer leaves ---------------------------------------------------------------------

def _dead_pid():
  return int(subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True,
                            text=True).stdout)


def test_a_temporary_file_of_a_dead_writer_goes_when_the_folder_is_next_opened(tmp_path):
  """A SIGKILL mid-write leaves .<name>~<host>~<pid>~<random>.tmp (a checkpoint's may weigh gigabytes): the
  next process on the folder removes it at once when its writer is dead on this host, keeps a live
  writer's, and another host's until it is stale."""
  cli(tmp_path, *SHORT, '--chunk_size=3', '--shard=0/2', '--quiet')
  chunks = folder_paths.chunk_dir(tmp_path)
  dead = os.path.join(chunks, f'.chunk_000001.partial.npz~{files.HOST}~{_dead_pid()}~abc123.tmp')
  alive = os.path.join(chunks, f'.chunk_000003.partial.npz~{files.HOST}~{os.getpid()}~def456.tmp')
  elsewhere = os.path.join(chunks, '.chunk_000003.npz~another-host.example.org~1~ghi789.tmp')
  just_killed = os.path.join(chunks, f'.chunk_000002.npz~{files.HOST}~{_dead_pid()}~jkl012.tmp')
  for path in (dead, alive, elsewhere, just_killed):
    with open(path, 'wb') as f:
      f.write(b'x' * 1000)
  os.utime(dead, (time.time() - files.QUIET_SECONDS - 1,) * 2)  # quiet for a minute: its writer is gone
  module('sslgap.merge', tmp_path, '--allow_missing')  # a merge opens the folder too
  assert not os.path.exists(dead) and os.path.exists(alive) and os.path.exists(elsewhere)
  assert os.path.exists(just_killed)  # written a moment ago: perhaps by a writer this host cannot see
  os.utime(elsewhere, (time.time() - leases.LEASE_STALE_S - 1,) * 2)
  cli(tmp_path, *SHORT, '--chunk_size=3', '--shard=0/2', '--quiet')  # a rerun, nothing left to compute
  assert not os.path.exists(elsewhere) and os.path.exists(alive)


def test_the_temporary_files_sslgap_writes_name_their_writer(tmp_path):
  seen = []
  real = files.tempfile.mkstemp

  def spy(**kwargs):
    fd, path = real(**kwargs)
    seen.append(os.path.basename(path))
    return fd, path

  files.tempfile.mkstemp, saved = spy, files.tempfile.mkstemp
  try:
    files.write_text(str(tmp_path / 'x.json'), '{}')
  finally:
    files.tempfile.mkstemp = saved
  assert re.fullmatch(rf'\.x\.json~{re.escape(files.HOST)}~{os.getpid()}~[^~]+\.tmp', seen[0]), seen


# --- checkpoints that are not the folder's ------------------------------------------------------------

def _folder_with_a_checkpoint(out, chunk=0, config_hash=None):
  """A planned folder (4 chunks of 3 runs) with a checkpoint of `chunk` at interval 1 of 2."""
  config = tiny_config()
  plan, record, _, _ = runner.prepare_folder(config, str(out), runner.Options(chunk_size=3))
  flight = {name: np.full((3, 2), 0.5, np.float32) for name in ('test_loss', 'test_acc')}
  chunk_files.write_partial(str(out), 0, chunk, plan.positions(chunk), config_hash or record['config_hash'], 3, [],
                            [], flight, 1, seconds=2.0, device=plan.device)
  return folder_paths.partial_path(out, chunk)


def test_status_counts_only_checkpoints_the_runner_would_resume(tmp_path):
  path = _folder_with_a_checkpoint(tmp_path)
  usable = status_lib.folder_status(str(tmp_path))
  assert [c['chunk'] for c in usable['checkpoints']] == [0] and not usable['unusable_checkpoints']
  os.replace(path, folder_paths.partial_path(tmp_path, 2))  # renamed to another chunk
  renamed = status_lib.folder_status(str(tmp_path))
  assert not renamed['checkpoints']
  assert renamed['unusable_checkpoints'] == ['chunk_000002.partial.npz (holds other runs than the plan gives its chunk)']
  text, _ = module('sslgap.status', tmp_path)
  assert 'checkpoint(s) no run will resume (not counted): chunk_000002.partial.npz' in text
  assert 'chunk 2: checkpoint' not in text


def test_a_partial_merge_names_a_checkpoint_of_another_config(tmp_path):
  _folder_with_a_checkpoint(tmp_path, chunk=1, config_hash='0123456789abcdef')
  _, stderr = module_in_process('sslgap.merge', tmp_path, '--allow_missing', expect=2)
  assert 'has no finished chunk yet and no usable checkpoint' in stderr
  assert 'chunk_000001.partial.npz (comes from a different config' in stderr


def test_a_partial_merge_takes_the_folders_own_checkpoint(tmp_path):
  _folder_with_a_checkpoint(tmp_path, chunk=1)
  module('sslgap.merge', tmp_path, '--allow_missing')
  r = grid(tmp_path)
  assert not r.finished.any() and int((r.evaluations_done == 2).sum()) == 3


def test_a_checkpoint_from_before_devices_were_recorded_counts_as_the_planned_device(tmp_path):
  """Checkpoints written before they recorded their numerics are taken to come from the device the folder
  was planned on: continued there, restarted elsewhere (not every one of them restarted on upgrading)."""
  path = _folder_with_a_checkpoint(tmp_path)
  with np.load(path) as f:
    content = {k: f[k] for k in f.files if k not in ('device_kind', 'device_count')}
  np.savez(path, **content)
  record = json.load(open(folder_paths.plan_path(tmp_path)))
  planned = record['layouts'][0]['device']
  positions = np.asarray(content['positions'])
  saved = chunk_files.read_partial(path, record, positions, 3, [], device=planned, planned=planned)
  assert saved['next_interval'] == 1
  elsewhere = dict(planned, count=planned.get('count', 1) + 1)
  with pytest.raises(chunk_files.OtherNumerics):
    chunk_files.read_partial(path, record, positions, 3, [], device=elsewhere, planned=planned)


def test_a_replan_says_it_drops_a_checkpoints_progress(tmp_path):
  path = _folder_with_a_checkpoint(tmp_path)
  log = cli(tmp_path, *SHORT, '--replan', '--chunk_size=6', '--quiet')
  assert '--replan drops the checkpoint of chunk 0 (50% of its runs\' steps computed)' in log
  assert not os.path.exists(path) and grid(tmp_path).finished.all()


# --- leases dated in the future ---------------------------------------------------------------------

def test_a_lease_dated_in_the_future_ages_by_the_readers_clock(tmp_path, monkeypatch):
  """Another host whose clock runs an hour ahead dates its lease in the future: it counts as live only
  until it has not changed for LEASE_STALE_S as seen by this process, then it is taken over."""
  os.makedirs(folder_paths.chunk_dir(tmp_path))
  path = folder_paths.lease_path(tmp_path, 0, 3)
  with open(path, 'w') as f:
    json.dump({'host': 'another-host', 'pid': 1, 'token': 'skewed'}, f)
  os.utime(path, (time.time() + 3600,) * 2)
  clock = [1000.0]
  monkeypatch.setattr(leases.time, 'monotonic', lambda: clock[0])
  assert leases.lease_is_live(path) and leases.read_lease(path)[0]['future']
  assert leases.future_dated(str(tmp_path)) == ['chunk_000003']
  clock[0] += leases.LEASE_STALE_S - 1
  assert leases.lease_is_live(path)
  clock[0] += 2
  assert not leases.lease_is_live(path)
  os.utime(path, (time.time() + 3601,) * 2)  # refreshed by its holder: alive again, aging anew
  assert leases.lease_is_live(path)
  taker = leases.Leases(str(tmp_path))
  try:
    clock[0] += leases.LEASE_STALE_S + 1
    assert taker.take(0, 3)
  finally:
    taker.close()


def test_status_says_a_lease_is_dated_in_the_future_and_gives_no_eta(tmp_path):
  _folder_with_a_checkpoint(tmp_path)
  lease = folder_paths.lease_path(tmp_path, 0, 0)
  with open(lease, 'w') as f:
    json.dump({'host': 'another-host', 'pid': 1, 'token': 'skewed'}, f)
  os.utime(lease, (time.time() + 3600,) * 2)
  text, _ = module('sslgap.status', tmp_path)
  assert 'dated in the future by their host\'s clock (clock skew): chunk_000000' in text
  assert 'to finish at its pace' not in text


# --- what a partial grid shows ------------------------------------------------------------------------

def test_show_of_a_partial_grid_tells_unfinished_from_diverged(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=3', '--shard=1/2', '--quiet')
  module('sslgap.merge', tmp_path, '--allow_missing')
  stdout, _ = module('sslgap.show', tmp_path / 'init_scale_heatmap.npz', '--no_figure', '--best', '')
  assert 'diverged' not in stdout.split('diverged runs:')[0], stdout
  assert 'not finished yet' in stdout and 'diverged runs: 0 of the 6 finished' in stdout


# --- what a dry run and a resume say ------------------------------------------------------------------

def test_a_dry_run_projects_the_time_here_and_on_a_named_device(tmp_path):
  done = subprocess.run(cli_command(tmp_path, *SHORT, '--dry_run'), cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == 0, done.stderr
  assert re.search(r'projected: about [\d.]+ s of computing on this machine \(cpu\) at 25 GFLOP/s per device',
                   done.stdout), done.stdout
  done = subprocess.run(cli_command(tmp_path, *SHORT, '--dry_run', '--device=h100x8'), cwd=ROOT, env=env(),
                        capture_output=True, text=True)
  assert re.search(r'projected: about .* of computing on 8 x h100 at 6,700 GFLOP/s per device \(an assumed rate',
                   done.stdout), done.stdout
  assert not os.path.exists(folder_paths.chunk_dir(tmp_path))


def test_a_resume_says_what_it_resumes_before_it_starts(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=3', '--shard=0/2', '--quiet')
  log = cli(tmp_path, *SHORT, '--chunk_size=3')
  lines = log.splitlines()
  resuming = next(i for i, line in enumerate(lines) if line.startswith('resuming'))
  assert lines[resuming] == f'resuming {tmp_path}: 2 of 4 chunk(s) done, 2 to run'
  assert resuming < next(i for i, line in enumerate(lines) if re.search(r'compiled kernel \d+ for', line))
