"""Tasks and models of one's own plug in from one file each (examples/), and a traced
hyper-parameter is one declaration (sslgap.hparams): each checked on what it promises."""

import dataclasses
import importlib.util
import os
import subprocess
import sys

import jax
import numpy as np
import pytest

from sslgap import config as config_lib
from sslgap import hparams
from sslgap import models
from sslgap import results
from sslgap import spec as spec_lib
from sslgap import sweep
from sslgap import tasks
from sslgap import train
from sweep_cli import ROOT, env, script_in_process
from sweep_cli import run as cli

SHORT = ['--config.train.steps=20', '--config.train.eval_every=10', '--config.task.test_size=64',
         '--config.data.eval_train_size=64', '--config.sweep.seed=(0,)', '--quiet']


def _example(name, preset='small'):
  spec = importlib.util.spec_from_file_location(f'example_{name}', os.path.join(ROOT, 'examples', f'{name}.py'))
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module, module.get_config(preset)


def _cli(config_arg, out, *args, process=False):
  """The experiment script on an example's config: in this process (sweep_cli.run), where the test may have
  imported the plug-in already, or with process=True in a fresh interpreter, where only the config's
  `plugins` entry can load it (the staircase's test runs so, once)."""
  cli(out, f'--config={config_arg}', *SHORT, *args, script='experiments/learning_curves.py', tiny=False,
      process=process)
  return results.load(os.path.join(out, f'{os.path.basename(config_arg).split(".")[0]}.npz'))


def test_the_staircase_task_labels_and_runs_through_the_normal_command(tmp_path):
  module, _ = _example('staircase')
  task = module.Staircase(n=6, k=3)
  target = task.init_target(jax.random.key(0))
  x, y = task.sample(target, jax.random.key(1), 4096)
  x = np.asarray(x, np.float64)
  np.testing.assert_allclose(np.asarray(y), (x[:, 0] + x[:, 0] * x[:, 1] + x[:, :3].prod(axis=1)) / np.sqrt(3),
                             rtol=1e-6)
  assert abs(float(np.mean(y))) < 0.05 and abs(float(np.var(y)) - 1) < 0.05  # unit variance
  random = np.asarray(task.random_labels(target, None, x.astype(np.int8)))
  assert abs(float(np.var(random)) - 1) < 0.05 and abs(np.corrcoef(random, y)[0, 1]) < 0.05
  population, _ = task.population(target, jax.random.key(2))
  assert len({tuple(row) for row in np.asarray(population)}) == 64  # every input once
  r = _cli('examples/staircase.py:small', tmp_path, '--config.task.n=8', '--config.task.k=3',
           '--config.sweep.dataset_size=(64,"online")', process=True)
  assert r.axis_names == ['dataset_size', 'lr', 'seed'] and 'test_acc' not in r.metrics
  assert np.all(np.isfinite(r['test_loss']))


def test_a_task_checks_its_own_rules_before_anything_compiles(tmp_path):
  stderr = script_in_process('experiments/learning_curves.py', '--config=examples/staircase.py:small',
                             '--config.task.k=30', f'--out={tmp_path}', expect=2)
  assert 'config.task.k: k=30 must not exceed n=24' in stderr


def test_the_residual_mlp_sweeps_its_own_groups_vmapped(tmp_path, check_chunk_equals_runs_alone):
  _, c = _example('residual_mlp')
  c.task.n, c.task.k, c.task.test_size = 8, 3, 64
  c.data.eval_train_size = 64
  c.model.width = 16
  c.train.steps, c.train.eval_every = 20, 10
  c.sweep.dataset_size = (64, 'online')
  c.sweep.init_scale_blocks = (0.5, 2.0)
  c.sweep.lr_mult_input = (4.0,)
  c.sweep.seed = (0,)
  plan, _ = check_chunk_equals_runs_alone(c, chunk_size=4)
  assert [a for a, _ in plan.axes] == ['dataset_size', 'init_scale_blocks', 'lr_mult_input', 'seed']
  assert plan.num_kernels == 1  # the new groups' multipliers are traced
  spec = spec_lib.derive(config_lib.concrete_config(c, {}))
  assert spec.metric_names[-3:] == ['norm_input', 'norm_blocks', 'norm_readout']
  run = train.Run(spec)
  key = jax.random.key(0)
  base, groups = run.init_params(spec_lib.run_hp(c), key)
  scaled, _ = run.init_params(spec_lib.run_hp(c, {'init_scale_blocks': 3.0}), key)
  for (path, a), b, group in zip(jax.tree_util.tree_leaves_with_path(base), jax.tree_util.tree_leaves(scaled),
                                 jax.tree_util.tree_leaves(groups)):
    np.testing.assert_allclose(np.asarray(b), np.asarray(a) * (3.0 if group == 'blocks' else 1.0), rtol=1e-6,
                               err_msg=jax.tree_util.keystr(path))
  assert set(jax.tree_util.tree_leaves(groups)) == {'input', 'blocks', 'readout'}


def test_the_residual_mlp_runs_through_the_normal_command(tmp_path):
  r = _cli('examples/residual_mlp.py:small', tmp_path, '--config.task.n=8', '--config.task.k=3',
           '--config.model.width=16', '--config.sweep.init_scale_blocks=(1.0,)', '--config.sweep.dataset_size=(64,)')
  assert 'norm_blocks' in r.metrics and r.coords['lr_mult_input'].tolist() == [1.0, 4.0]
  assert os.path.exists(tmp_path / 'residual_mlp.png')


def test_a_missing_plug_in_is_named(tiny_config):
  tiny_config.plugins = ('examples/nothing_here.py',)
  with pytest.raises(config_lib.ConfigError, match=r"config.plugins: 'examples/nothing_here.py': no such file"):
    config_lib.validate(tiny_config)
  tiny_config.plugins = ()
  tiny_config.task.name = 'staircase_typo'
  with pytest.raises(config_lib.ConfigError, match='config.task.name: unknown value'):
    config_lib.validate(tiny_config)


def test_the_built_ins_are_plug_ins_of_the_same_shape():
  assert {'parity', 'sim', 'modadd', 'icl'} <= set(tasks.TASKS)
  assert {'mlp', 'transformer', 'quadratic_neuron'} <= set(models.MODELS)
  for cls in tasks.TASKS.values():
    assert issubclass(cls, tasks.Task) and dataclasses.is_dataclass(cls)
  for cls in models.MODELS.values():
    assert issubclass(cls, models.Model)


def test_base_config_hp_is_the_declarations():
  c = config_lib.base_config()
  assert set(c.hp.keys()) == set(hparams.config_defaults())
  for key, value in hparams.config_defaults().items():
    assert c.hp[key] == value, key


def test_a_new_traced_hyperparameter_is_one_declaration(tiny_config, monkeypatch):
  """Declared once, a hyper-parameter is in the config, checked, swept (vmapped) and converted."""
  new = hparams.HParam('label_noise', 'float', 0.0, low=0, high=1, used=lambda f: not f.full_batch)
  monkeypatch.setattr(hparams, 'DECLARED', [*hparams.DECLARED, new])
  monkeypatch.setattr(hparams, 'BY_NAME', dict(hparams.BY_NAME, label_noise=new))
  c = config_lib.base_config()
  assert c.hp.label_noise == 0.0
  tiny_config.hp.label_noise = 0.0
  tiny_config.sweep.label_noise = (0.0, 0.1)
  plan = sweep.make_plan(tiny_config)
  assert plan.num_kernels == 1 and [plan.axes[i][0] for i in plan.traced] == ['label_noise']
  hp = sweep.Executor(plan).chunk_hp(plan.subgrids[0], np.arange(2))
  assert hp['label_noise'].dtype == np.float32 and hp['label_noise'].tolist() == [0.0, np.float32(0.1)]
  tiny_config.sweep.label_noise = (0.0, 1.5)
  with pytest.raises(config_lib.ConfigError, match=r'config.sweep.label_noise\[1\]: must be in \[0, 1\], got 1.5'):
    sweep.make_plan(tiny_config)
  tiny_config.data.mode, tiny_config.sweep.label_noise = 'full_batch', (0.0, 0.1)
  with pytest.raises(config_lib.ConfigError, match='hp.label_noise is not used by this config'):
    sweep.make_plan(tiny_config)


def test_a_plug_in_beside_its_config_file_is_found_from_anywhere(tmp_path, monkeypatch):
  """config.plugins = ('staircase.py',) in a config file of another folder names the file beside it."""
  folder = tmp_path / 'mine'
  folder.mkdir()
  source = open(os.path.join(ROOT, 'examples', 'staircase.py')).read()
  assert "c.plugins = ('examples/staircase.py',)" in source
  (folder / 'staircase_copy.py').write_text(source.replace("c.plugins = ('examples/staircase.py',)",
                                                           "c.plugins = ('staircase_copy.py',)")
                                            .replace("'staircase'", "'staircase_copy'"))
  monkeypatch.chdir(ROOT)
  c = config_lib.load(str(folder / 'staircase_copy.py:small'))
  assert c.plugins == (os.path.relpath(folder / 'staircase_copy.py'),) and os.path.isfile(c.plugins[0])
  config_lib.validate(c)  # imports it
  assert 'staircase_copy' in tasks.TASKS


def test_a_plug_in_beside_its_config_file_is_found_by_the_experiment_scripts(tmp_path):
  """The scripts read their config through config_flags, and then the same rule as sslgap.run: a plug-in
  path beside the config file (issue 28: 'no such file' from the command line only)."""
  folder = tmp_path / 'mine'
  folder.mkdir()
  source = open(os.path.join(ROOT, 'examples', 'staircase.py')).read()
  (folder / 'my_task.py').write_text(source.replace("c.plugins = ('examples/staircase.py',)", "c.plugins = ('my_task.py',)")
                                     .replace("'staircase'", "'my_task'"))
  done = subprocess.run([sys.executable, 'experiments/learning_curves.py', f'--config={folder}/my_task.py:small',
                         f'--out={tmp_path}/out', '--dry_run'], cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == 0, done.stderr
  assert 'runs of' in done.stdout and 'projected:' in done.stdout
