"""python -m sslgap.keep: the finished grids of a results tree, without their chunk files, from which a
report regenerates with nothing rerun."""

import json
import os
import shutil

import numpy as np

from sslgap import keep
from sslgap.folder import Folder
from sslgap.paper import report
from sweep_cli import grid, module_in_process


def _tree(reference_sweep, root):
  """root/designs/fig/confirm: the reference sweep, finished, under a design record, with the files a
  finished folder may still hold (kept chunk files, a layout its plan never made, a stale checkpoint and
  lease);
  root/medium/done: the same, finished, with its wall.json beside it; root/small/running: the same
  sweep whose merged grid is gone (as a sweep still running has none)."""
  out, _ = reference_sweep
  finished = root / 'designs' / 'fig' / 'confirm'
  shutil.copytree(out, finished)
  for name in ('chunk_000000.npz', 'chunk_000000.partial.npz', 'chunk_000000.lease', 'layout_1.npz'):
    (finished / 'chunks' / name).write_bytes(b'not a result')
  (root / 'designs' / 'fig' / 'design.json').write_text(json.dumps({'design': {'seeds': 12}}))
  done = root / 'medium' / 'done'
  shutil.copytree(out, done)
  (done / 'wall.json').write_text('{"seconds": 1.0}')
  running = root / 'small' / 'running'
  shutil.copytree(out, running)
  os.remove(Folder(str(running)).merged_path(Folder(str(running)).plan()))
  (running / 'wall.json').write_text('{}')
  return finished, running


def _listing(root):
  return sorted(os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs)


def test_a_finished_grid_is_kept_with_its_records_and_without_its_chunks(reference_sweep, tmp_path):
  finished, _ = _tree(reference_sweep, tmp_path / 'results')
  dest = tmp_path / 'kept'
  stdout, _ = module_in_process('sslgap.keep', tmp_path / 'results', dest)
  assert 'kept designs/fig/confirm' in stdout and 'kept medium/done' in stdout
  assert 'left small/running: not finished' in stdout
  assert '2 finished grid(s)' in stdout and '1 folder(s) left' in stdout
  grid_files = ['chunks/plan.json', 'init_scale_heatmap.npz', 'init_scale_heatmap.png']
  assert _listing(dest) == sorted(['designs/fig/design.json', 'medium/done/wall.json']
                                  + [f'designs/fig/confirm/{f}' for f in grid_files]
                                  + [f'medium/done/{f}' for f in grid_files]), _listing(dest)
  # the report reads the kept folder as it read the original: complete, and the same grid bitwise
  copy = dest / 'designs' / 'fig' / 'confirm'
  assert report._complete_grid(str(copy)) == Folder(str(copy)).merged_path(Folder(str(copy)).plan())
  kept, original = grid(copy), grid(finished)
  for name in original.metrics:
    np.testing.assert_array_equal(kept[name], original[name], err_msg=name)
  # keeping again rewrites the same files, and a folder that finished since is added
  before = {f: (dest / f).read_bytes() for f in _listing(dest)}
  shutil.copy(finished / 'init_scale_heatmap.npz', tmp_path / 'results' / 'small' / 'running')
  kept_now, left = keep.keep(str(tmp_path / 'results'), str(dest))
  assert kept_now == ['designs/fig/confirm', 'medium/done', 'small/running'] and left == []
  assert {f: (dest / f).read_bytes() for f in before} == before
  assert 'small/running/init_scale_heatmap.npz' in _listing(dest)


def test_a_kept_grid_of_another_config_is_not_overwritten(reference_sweep, tmp_path):
  _tree(reference_sweep, tmp_path / 'results')
  dest = tmp_path / 'kept'
  keep.keep(str(tmp_path / 'results'), str(dest))
  plan = dest / 'medium' / 'done' / 'chunks' / 'plan.json'
  record = json.loads(plan.read_text())
  record['config_hash'] = 'another'
  plan.write_text(json.dumps(record))
  stdout, _ = module_in_process('sslgap.keep', tmp_path / 'results', dest)
  assert 'left medium/done: ' in stdout and 'holds the grid of another config' in stdout
  assert json.loads(plan.read_text())['config_hash'] == 'another'


def test_keep_refuses_a_missing_source_and_a_destination_inside_it(tmp_path):
  _, err = module_in_process('sslgap.keep', tmp_path / 'nowhere', tmp_path / 'kept', expect=2)
  assert err.strip().splitlines() == [f'error: {tmp_path / "nowhere"}: no such folder']
  for dest in (tmp_path / 'kept', tmp_path, tmp_path.parent):
    _, err = module_in_process('sslgap.keep', tmp_path, dest, expect=2)
    assert 'keep the grids elsewhere' in err and len(err.strip().splitlines()) == 1, err


def test_an_unfinished_folder_kept_with_its_chunk_files_resumes_from_them(reference_sweep, tmp_path):
  """--unfinished keeps a running folder's plan and finished chunk files (not its checkpoints or leases), a
  sweep on the kept copy computes only the chunks that were missing and ends in the uninterrupted grid,
  and keeping the finished folder later drops the chunk files kept while it ran."""
  from sweep_cli import SHORT
  from sweep_cli import run as cli
  running = tmp_path / 'results' / 'medium' / 'running'
  cli(running, *SHORT, '--chunk_size=4', '--shard=0/3', '--quiet')  # chunk 0 of 3 done
  (running / 'chunks' / 'chunk_000001.partial.npz').write_bytes(b'a checkpoint')
  (running / 'chunks' / 'chunk_000001.lease').write_bytes(b'a lease')
  (running / 'wall.json').write_text('{"seconds": 1.0}')
  dest = tmp_path / 'kept'
  stdout, _ = module_in_process('sslgap.keep', tmp_path / 'results', dest, '--unfinished')
  assert 'kept medium/running (unfinished: 1 chunk file(s))' in stdout, stdout
  assert '0 finished grid(s) and 1 unfinished folder(s)' in stdout
  assert _listing(dest) == ['medium/running/chunks/chunk_000000.npz', 'medium/running/chunks/plan.json',
                            'medium/running/wall.json'], _listing(dest)
  copy = dest / 'medium' / 'running'
  log = cli(copy, *SHORT, '--chunk_size=4')
  assert '1 of 3 chunk(s) done, 2 to run' in log and '8 runs in 2 chunk(s) (1 already done)' in log, log
  out, _ = reference_sweep
  for name, values in grid(out).metrics.items():
    np.testing.assert_array_equal(grid(copy)[name], values, err_msg=name)
  kept, left = keep.keep(str(dest), str(tmp_path / 'kept_again'))
  assert kept == ['medium/running'] and left == []
  keep.keep(str(tmp_path / 'results'), str(dest), unfinished=True)  # the kept folder, running again
  assert 'medium/running/chunks/chunk_000000.npz' in _listing(dest)
  shutil.rmtree(tmp_path / 'results')
  shutil.copytree(copy, tmp_path / 'results' / 'medium' / 'running')
  keep.keep(str(tmp_path / 'results'), str(dest))  # finished now: its kept chunk files go
  assert not [f for f in _listing(dest) if 'chunk_0' in f], _listing(dest)


def test_an_unfinished_folder_replaces_a_kept_unfinished_one_of_another_config_or_plan(reference_sweep, tmp_path):
  _, running = _tree(reference_sweep, tmp_path / 'results')
  (running / 'chunks' / 'chunk_000000.npz').write_bytes(b'a finished chunk')
  dest = tmp_path / 'kept'
  keep.keep(str(tmp_path / 'results'), str(dest), unfinished=True)
  kept = dest / 'small' / 'running'
  plan = kept / 'chunks' / 'plan.json'
  record = json.loads(plan.read_text())
  plan.write_text(json.dumps(dict(record, config_hash='another')))
  (kept / 'chunks' / 'chunk_000005.npz').write_bytes(b'a chunk of another plan')
  stdout, _ = module_in_process('sslgap.keep', tmp_path / 'results', dest, '--unfinished')
  assert 'kept small/running (unfinished: 1 chunk file(s))' in stdout and 'another config' not in stdout, stdout
  assert json.loads(plan.read_text())['config_hash'] == record['config_hash']
  assert sorted(os.listdir(kept / 'chunks')) == ['chunk_000000.npz', 'plan.json']
