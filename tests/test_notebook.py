"""The notebook API as a notebook user meets it: the log the scripts print, the figure on disk, a
grid that knows its folder, a figure from sslgap.plot, and a folder of another config named in
Python's words."""

import logging
import os

import pytest
from matplotlib.figure import Figure

import sslgap
from sslgap import errors
from sweep_cli import tiny_config


def test_run_logs_the_plan_writes_the_figure_and_knows_its_folder(tmp_path, caplog):
  out = tmp_path / 'sweep'
  c = tiny_config()
  r = sslgap.run(c, out=out, progress=False)
  log = caplog.text
  assert 'grid {' in log and 'compiled kernel' in log and f'wrote {r.path}' in log  # as the scripts print it
  assert logging.getLogger('sslgap').level == logging.NOTSET  # as it was
  assert r.folder == str(out) and r.path == str(out / f'{c.name}.npz')
  assert (out / f'{c.name}.png').read_bytes().startswith(b'\x89PNG')
  assert isinstance(sslgap.plot(r), Figure)
  sslgap.plot(r, metric='test_loss', out=tmp_path / 'loss.svg')
  assert (tmp_path / 'loss.svg').read_text().startswith('<?xml')
  again = sslgap.load(out)  # a folder: its merged grid
  assert again.shape == r.shape and again.folder == str(out)
  caplog.clear()
  sslgap.run(c, out=out, progress=False, quiet=True)
  assert 'grid {' not in caplog.text and 'is complete already' in caplog.text  # quiet: warnings only
  c.train.steps, c.train.eval_every = 40, 20
  with pytest.raises(errors.StoreError) as raised:
    sslgap.run(c, out=out, progress=False)
  message = str(raised.value)
  assert 'train.steps: 20 -> 40' in message and 'train.eval_every: 10 -> 20' in message
  assert 'out= in sslgap.run' in message and 'fresh=True' in message
  assert os.path.exists(out / f'{tiny_config().name}.npz')  # nothing lost
