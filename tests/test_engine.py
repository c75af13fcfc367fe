"""The sweep engine at scale: chunking, devices, shards, resume, merge, progress and compile logs.

These run the experiment script as a user would, with a tiny grid of 12 runs.
"""

import os
import shutil
import signal

import numpy as np
import pytest

from sslgap import memory
from sslgap import spec as spec_lib
from sslgap import chunk_files
from sslgap import folder_paths
from sslgap.folder import Folder
from sslgap import errors
from sslgap import sweep
from sweep_cli import LONGER, SHORT, assert_same_grid, grid, module
from sweep_cli import run_in_process, wait_until
from sweep_cli import run as cli


@pytest.fixture
def reference(reference_sweep):
  """One device, one chunk of all 12 runs, one shard (computed once per run of the suite: conftest)."""
  return reference_sweep


def test_reference_run_logs_plan_compiles_and_summary(reference):
  out, log = reference
  assert '12 runs of 20 steps' in log
  assert '1 chunk(s) of 12 runs over 1 device(s)' in log
  assert 'compiling 1 kernel(s); 0 diverged run(s)' in log
  assert 'run-steps/s' in log
  assert os.path.exists(os.path.join(out, 'init_scale_heatmap.png'))


def test_result_does_not_depend_on_chunk_size(reference, tmp_path):
  log = cli(tmp_path, *SHORT, '--chunk_size=5', '--quiet', '--keep_chunks')
  assert len(chunk_files.find(tmp_path)) == 3
  assert log.count('chunk ') >= 3 and 'done (3/3 of this process)' in log  # --quiet: one line per chunk
  assert_same_grid(grid(tmp_path), grid(reference[0]))


def test_four_devices_equal_one_device(reference, tmp_path):
  log = cli(tmp_path, *SHORT, '--chunk_size=8', devices=4)  # 8 runs per chunk: 2 per device
  assert 'over 4 device(s)' in log
  assert_same_grid(grid(tmp_path), grid(reference[0]))


def test_two_shards_merged_equal_one_shard(reference, tmp_path):
  log = cli(tmp_path, *SHORT, '--chunk_size=4', '--shard=1/2')
  assert 'other shards still have chunks to run' in log
  assert set(chunk_files.find(tmp_path)) == {(0, 1)}
  assert not os.path.exists(os.path.join(tmp_path, 'init_scale_heatmap.npz'))
  with pytest.raises(errors.StoreError, match='have no finished chunk'):
    Folder(str(tmp_path)).merge()
  cli(tmp_path, *SHORT, '--chunk_size=4', '--shard=0/2', '--quiet', '--keep_chunks')
  assert set(chunk_files.find(tmp_path)) == {(0, 0), (0, 1), (0, 2)}
  assert_same_grid(grid(tmp_path), grid(reference[0]))
  os.remove(os.path.join(tmp_path, 'init_scale_heatmap.npz'))
  stdout, _ = module('sslgap.merge', tmp_path)
  assert 'wrote' in stdout and not chunk_files.find(tmp_path)  # a complete merge removes the chunks
  assert_same_grid(grid(tmp_path), grid(reference[0]), exact=True)
  again = cli(tmp_path, *SHORT, '--chunk_size=4')
  assert 'is complete already' in again


def test_merge_refuses_a_chunk_of_another_config(reference, tmp_path):
  other = tmp_path / 'other'
  cli(other, '--config.train.steps=20', '--config.train.eval_every=20', '--chunk_size=12', '--quiet', '--keep_chunks')
  mixed = tmp_path / 'mixed'
  shutil.copytree(reference[0], mixed)
  shutil.copy(folder_paths.chunk_path(other, 0), folder_paths.chunk_path(mixed, 0))
  with pytest.raises(errors.StoreError, match='chunk_000000.npz comes from a different config'):
    Folder(str(mixed)).merge()


def test_a_different_config_in_a_used_folder_is_refused(reference, tmp_path):
  shutil.copytree(reference[0], tmp_path / 'used')
  stderr = run_in_process(tmp_path / 'used', '--config.hp.lr=0.3', *SHORT, expect=2)
  assert 'holds chunks of a different config' in stderr and '--fresh' in stderr
  assert len(stderr.strip().splitlines()) == 1
  cli(tmp_path / 'used', '--config.hp.lr=0.3', *SHORT, '--fresh', '--quiet')
  assert grid(tmp_path / 'used').config['hp']['lr'] == 0.3


@pytest.fixture(scope='module')
def uninterrupted(tmp_path_factory):
  """The 12 runs of LONGER, one chunk each, run without interruption."""
  out = tmp_path_factory.mktemp('uninterrupted')
  cli(out, *LONGER, '--quiet')
  return grid(out)


def test_interrupted_sweep_resumes_to_the_uninterrupted_result(uninterrupted, tmp_path):
  out = tmp_path / 'interrupted'
  process = cli(out, *LONGER, wait=False)
  wait_until(lambda: chunk_files.find(out), process, 'a chunk was done')
  process.send_signal(signal.SIGTERM)
  _, stderr = process.communicate()
  assert process.returncode == 128 + signal.SIGTERM, stderr
  assert 'Rerun the same command to resume' in stderr
  finished = chunk_files.find(out)
  assert 1 <= len(finished) < 12
  assert not os.path.exists(out / 'init_scale_heatmap.npz')
  assert not [n for n in os.listdir(folder_paths.chunk_dir(out)) if n.endswith(('.tmp', '.lease'))]
  log = cli(out, *LONGER)
  assert f'({len(finished)} already done)' in log
  assert_same_grid(grid(out), uninterrupted, exact=True)


def test_resume_keeps_the_folders_chunk_size(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=4', '--shard=0/3', '--quiet')
  stderr = run_in_process(tmp_path, *SHORT, '--chunk_size=5', expect=2)
  assert 'was started with chunks of 4 runs' in stderr and '--replan' in stderr


def test_submitit_local_launcher_runs_shards_and_merges(reference, tmp_path):
  pytest.importorskip('submitit')
  log = cli(tmp_path, *SHORT, '--chunk_size=4', '--launcher=local', '--shards=2', '--keep_chunks')
  assert 'submitted 2 shard job(s)' in log
  assert set(chunk_files.find(tmp_path)) == {(0, 0), (0, 1), (0, 2)}
  assert_same_grid(grid(tmp_path), grid(reference[0]))
  assert os.path.exists(tmp_path / 'init_scale_heatmap.png')
  assert os.listdir(tmp_path / 'jax_cache')  # the launcher's compilation cache is on, in the folder


def test_persistent_compilation_cache_is_written(tmp_path):
  cache = tmp_path / 'cache'
  cli(tmp_path / 'out', *SHORT, f'--compilation_cache={cache}', '--quiet', process=True)  # JAX's cache is set once a process
  assert os.listdir(cache)


def test_chunk_size_fits_the_memory_budget(tiny_config):
  tiny_config.sweep.seed = tuple(range(100))
  tiny_config.engine.cpu_cache_bytes = '1GB'  # let memory alone decide
  per_run = memory.total_bytes_per_run(spec_lib.derive(tiny_config))
  shared = sweep.make_plan(tiny_config).shared_bytes
  budget = shared + 30.5 * per_run
  plan = sweep.make_plan(tiny_config, memory_budget=str(int(budget)), num_devices=1)
  assert plan.chunk_size == 30 and plan.num_chunks == 4
  assert plan.shared_bytes + plan.chunk_size * plan.bytes_per_run <= budget
  # The budget is per device; more memory, larger chunks, never more than the runs there are.
  assert sweep.make_plan(tiny_config, memory_budget=str(int(budget)), num_devices=2).chunk_size == 60
  assert sweep.make_plan(tiny_config, memory_budget='100GB', num_devices=1).chunk_size == 100
  # With a chunk size given, the budget still sets the runs per call: a chunk of 40 runs in calls of 30.
  plan = sweep.make_plan(tiny_config, chunk_size=40, memory_budget=str(int(budget)), num_devices=1)
  assert (plan.chunk_size, plan.call_width, plan.num_chunks) == (40, 30, 3)


def test_cpu_chunks_hold_a_cache_sized_number_of_runs_per_device(tiny_config):
  tiny_config.sweep.seed = tuple(range(100))
  parts = memory.bytes_per_run(spec_lib.derive(tiny_config))
  per_device = memory.cpu_runs_per_device(spec_lib.derive(tiny_config), '6MB')
  assert per_device == 6_000_000 // (parts['state'] // 2 + parts['step'])
  assert sweep.make_plan(tiny_config, num_devices=2).chunk_size == min(2 * per_device, 100)
  tiny_config.engine.cpu_cache_bytes = '100kB'
  assert sweep.make_plan(tiny_config, num_devices=2).chunk_size == 2 * memory.cpu_runs_per_device(
      spec_lib.derive(tiny_config), '100kB') < 100


def test_runs_per_call_is_a_device_multiple_within_budget():
  fits = lambda **kw: memory.runs_per_call(**dict(dict(per_run=1e6, budget=1e9, shared=0, runs=1000, num_devices=4,
                                                       cap=10**6), **kw))
  assert fits(budget=10.5e6, shared=0.5e6) == 40
  assert fits(runs=10) == 12  # no more than the runs, rounded up to the devices
  assert fits(runs=10**6, num_devices=1, cap=500) == 500
  assert fits(measured={'fixed': 1e6, 'per_run': 2e6}, budget=11e6, num_devices=1) == 5  # XLA's figures
  assert fits(cpu_runs_per_device=3) == 12  # a CPU device's cache
  with pytest.raises(memory.TooSmall, match='holds no run of this sweep'):
    fits(per_run=1e9, budget=1e6, num_devices=2)
  assert memory.parse_bytes('80GB') == 80 * 10**9 and memory.parse_bytes('2GiB') == 2 * 2**30
  for bad, message in (('-5GB', 'positive'), ('1e400GB', 'finite'), ('lots', "like '60GB'"), ('0', 'positive')):
    with pytest.raises(ValueError, match=message):
      memory.parse_bytes(bad)


def test_diverged_runs_are_counted_and_kept_as_nan(tmp_path):
  log = cli(tmp_path, *SHORT, '--config.loss=square', '--config.sweep.init_scale_rest=(1.0,1000.0)',
            '--config.hp.lr=1.0')
  r = grid(tmp_path)
  bad = r.diverged()
  assert bad and all(point['init_scale_rest'] == 1000.0 for point in bad)
  assert f'{len(bad)} diverged run(s)' in log and 'diverged (NaN), for example' in log
  assert np.all(np.isfinite(r.sel(init_scale_rest=1.0).final('test_loss')))


def test_the_suite_compiles_with_most_optimizations_off_and_its_commands_too():
  """conftest.py: tests compile fast (most of XLA's optimisations off), here and in the commands they start."""
  import jax
  assert jax.config.values['jax_disable_most_optimizations']
  assert os.environ['JAX_DISABLE_MOST_OPTIMIZATIONS'] == '1'


@pytest.mark.optimized
def test_a_test_marked_optimized_compiles_at_the_default_level_as_users_run():
  """The bits users get (golden grids, a vmapped run against the run alone) are checked at XLA's default level,
  in the test's process and in any command it starts."""
  import jax
  assert not jax.config.values['jax_disable_most_optimizations']
  assert os.environ['JAX_DISABLE_MOST_OPTIMIZATIONS'] == '0'
