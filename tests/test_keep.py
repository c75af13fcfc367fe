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
  """root/design/fig/confirm: the reference sweep, finished, under a design record; root/small/running:
  the same sweep whose merged grid is gone (as a sweep still running has none)."""
  out, _ = reference_sweep
  finished = root / 'designs' / 'fig' / 'confirm'
  shutil.copytree(out, finished)
  (root / 'designs' / 'fig' / 'design.json').write_text(json.dumps({'design': {'seeds': 12}}))
  running = root / 'small' / 'running'
  shutil.copytree(out, running)
  os.remove(Folder(str(running)).merged_path(Folder(str(running)).plan()))
  (running / 'wall.json').write_text('{}')
  return finished, running


def test_a_finished_grid_is_kept_with_its_records_and_without_its_chunks(reference_sweep, tmp_path):
  finished, _ = _tree(reference_sweep, tmp_path / 'results')
  dest = tmp_path / 'kept'
  stdout, _ = module_in_process('sslgap.keep', tmp_path / 'results', dest)
  assert 'kept designs/fig/confirm' in stdout
  assert 'left small/running: not finished' in stdout
  assert '1 finished grid(s)' in stdout and '1 folder(s) not finished' in stdout
  copy = dest / 'designs' / 'fig' / 'confirm'
  names = sorted(os.path.relpath(os.path.join(d, f), dest) for d, _, fs in os.walk(dest) for f in fs)
  assert names == ['designs/fig/confirm/chunks/plan.json', 'designs/fig/confirm/init_scale_heatmap.npz',
                   'designs/fig/confirm/init_scale_heatmap.png', 'designs/fig/design.json'], names
  # the report reads the kept folder as it read the original: complete, and the same grid bitwise
  assert report._complete_grid(str(copy)) == Folder(str(copy)).merged_path(Folder(str(copy)).plan())
  kept, original = grid(copy), grid(finished)
  for name in original.metrics:
    np.testing.assert_array_equal(kept[name], original[name], err_msg=name)
  # keeping again changes nothing and a folder that finished since is added
  assert keep.keep(str(tmp_path / 'results'), str(dest)) == (['designs/fig/confirm'], ['small/running'])


def test_keep_refuses_a_missing_source_and_a_destination_inside_it(tmp_path):
  _, err = module_in_process('sslgap.keep', tmp_path / 'nowhere', tmp_path / 'kept', expect=2)
  assert err.strip().splitlines() == [f'error: {tmp_path / "nowhere"}: no such folder']
  _, err = module_in_process('sslgap.keep', tmp_path, tmp_path / 'kept', expect=2)
  assert 'lies inside' in err and len(err.strip().splitlines()) == 1
