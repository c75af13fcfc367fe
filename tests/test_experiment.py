"""The experiment script end to end, as a user runs it."""

import os
import subprocess
import sys

import numpy as np

from sslgap import results
from sweep_cli import run as cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args, tmp_path):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  return subprocess.run([sys.executable, 'experiments/init_scale_heatmap.py', *args, f'--out={tmp_path}', '--quiet'],
                        cwd=ROOT, env=env, capture_output=True, text=True)


def test_init_scale_heatmap_writes_npz_and_png_with_overrides(tmp_path):
  out = _run(['--config=sweeps/init_scale_heatmap.py:small',
              '--config.task.n=10', '--config.task.k=3', '--config.train.steps=40',
              '--config.train.eval_every=20', '--config.sweep.init_scale_first=(0.5,1.0)',
              '--config.sweep.init_scale_rest=(1.0,2.0)', '--config.sweep.dataset_size=(64,1024)',
              '--config.sweep.seed=(0,1)', '--config.hp.lr=0.05'], tmp_path)
  assert out.returncode == 0, out.stderr
  r = results.load(tmp_path / 'init_scale_heatmap.npz')
  assert r.axis_names == ['init_scale_first', 'init_scale_rest', 'dataset_size', 'seed']
  assert r.shape == (2, 2, 2, 2)
  np.testing.assert_array_equal(r.eval_steps, [0, 20, 40])
  assert r.config['hp']['lr'] == 0.05 and r.config['task']['n'] == 10
  assert np.all(np.isfinite(r['test_acc']))
  assert (tmp_path / 'init_scale_heatmap.png').stat().st_size > 10_000


def test_lr_heatmap_config_runs_through_the_same_script(tmp_path):
  # in this process (sweep_cli.run): the test above keeps the script's end-to-end run as a process
  cli(tmp_path, '--config=sweeps/lr_heatmap.py:small', '--config.task.n=10', '--config.task.k=3',
      '--config.train.steps=20', '--config.train.eval_every=20',
      '--config.sweep.lr_mult_first=(1.0,2.0)', '--config.sweep.lr_mult_rest=(1.0,)',
      '--config.sweep.dataset_size=(64,1024)', '--config.sweep.seed=(0,)', '--quiet', tiny=False)
  r = results.load(tmp_path / 'lr_heatmap.npz')
  assert r.axis_names == ['lr_mult_first', 'lr_mult_rest', 'dataset_size', 'seed']
  assert (tmp_path / 'lr_heatmap.png').exists()


def test_bad_override_fails_before_compiling_with_the_key(tmp_path):
  stderr = cli(tmp_path, '--config=sweeps/init_scale_heatmap.py:small', '--config.task.k=30', tiny=False, expect=2)
  assert 'config.task.k: k=30 must not exceed n=20' in stderr
  assert not (tmp_path / 'init_scale_heatmap.npz').exists()
