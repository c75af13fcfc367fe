"""The notebook API as a notebook user meets it: the log the scripts print, the figure on disk, a
grid that knows its folder, a figure from sslgap.plot, and a folder of another config named in
Python's words."""

import logging
import os
import subprocess
import sys

import pytest
from matplotlib.figure import Figure

import sslgap
from sslgap import errors
from sweep_cli import ROOT, env, tiny_config


def test_run_logs_the_plan_writes_the_figure_and_knows_its_folder(tmp_path, caplog):
  out = tmp_path / 'sweep'
  c = tiny_config()
  caplog.set_level(logging.INFO, 'sslgap')  # the session's logging decides (pytest's here)
  r = sslgap.run(c, out=out, progress=False)
  log = caplog.text
  assert 'grid {' in log and 'compiled kernel' in log and f'wrote {r.path}' in log  # as the scripts print it
  assert r.folder == str(out) and r.path == str(out / f'{c.name}.npz')
  assert (out / f'{c.name}.png').read_bytes().startswith(b'\x89PNG')
  assert isinstance(sslgap.plot(r), Figure)
  sslgap.plot(r, metric='test_loss', out=tmp_path / 'loss.svg')
  assert (tmp_path / 'loss.svg').read_text().startswith('<?xml')
  again = sslgap.load(out)  # a folder: its merged grid
  assert again.shape == r.shape and again.folder == str(out)
  assert r.mean('seed').folder == str(out)  # what derives from the grid keeps its folder
  c.train.steps, c.train.eval_every = 40, 20
  with pytest.raises(errors.StoreError) as raised:
    sslgap.run(c, out=out, progress=False)
  message = str(raised.value)
  assert 'train.steps: 20 -> 40' in message and 'train.eval_every: 10 -> 20' in message
  assert 'out= in sslgap.run' in message and 'fresh=True' in message
  assert os.path.exists(out / f'{tiny_config().name}.npz')  # nothing lost


def test_run_prints_the_log_on_stderr_where_the_session_set_up_no_logging(tmp_path):
  """As a notebook has it: no handler anywhere; quiet=True keeps only the warnings; levels come back."""
  code = ('import logging, sys; sys.path.insert(0, "tests"); import sslgap, sweep_cli\n'
          f'sslgap.run(sweep_cli.tiny_config(), out={str(tmp_path / "nb")!r}, progress=False)\n'
          'print("level", logging.getLogger("sslgap").level, len(logging.getLogger("sslgap").handlers))\n'
          f'sslgap.run(sweep_cli.tiny_config(), out={str(tmp_path / "nb")!r}, progress=False, quiet=True)\n')
  done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == 0, done.stderr
  first, _, second = done.stderr.partition('is complete already')
  assert 'grid {' in first and 'compiled kernel' in first and 'wrote ' in first
  assert 'level 0 0' in done.stdout and 'grid {' not in second
