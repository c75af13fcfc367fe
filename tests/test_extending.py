"""Each addition README's "Add your own" names touches only the files it lists: a static option (one
declaration in sslgap/setup/options.py, plus its use), an optimiser, a metric and a claim kind (one
declaration each, from a user's own file), and an experiment (one config file in sweeps/)."""

import json
import os
import shutil

import jax
import numpy as np
import optax
import pytest

from sslgap import catalog
from sslgap import claims
from sslgap import config as config_lib
from sslgap import evaluation
from sslgap import hparams
from sslgap import optim
from sslgap import options
from sslgap import plugins
from sslgap import report
from sslgap import results
from sslgap import sweep
from sslgap.errors import ConfigError
from sslgap.errors import PluginError
from sweep_cli import ROOT


def test_a_static_option_is_one_declaration(tiny_config, monkeypatch):
  """Declared once, an option is in every config with its default, checked, known to the unknown-key
  error, carried by the run spec, and swept as a static axis (one kernel per value)."""
  new = options.Option('train', 'warm_start_steps', 0, 'int', 'steps before the first evaluation', low=0,
                       zero='0: none')
  monkeypatch.setattr(options, 'DECLARED', options.DECLARED + (new,))
  assert config_lib.base_config().train.warm_start_steps == 0
  tiny_config.train.warm_start_steps = 5
  plan = sweep.make_plan(tiny_config)
  assert plan.subgrids[0].spec.train.warm_start_steps == 5
  tiny_config.train.warm_start_steps = -1
  with pytest.raises(ConfigError, match=r'train.warm_start_steps: must be a non-negative integer \(0: none\), got -1'):
    sweep.make_plan(tiny_config)
  tiny_config.train.warm_start_steps = 0
  tiny_config.train.warm_start_step = 3
  with pytest.raises(ConfigError, match='warm_start_step.*warm_start_steps'):
    sweep.make_plan(tiny_config)
  del tiny_config.train['warm_start_step']
  tiny_config.sweep.train__warm_start_steps = (0, 2)
  plan = sweep.make_plan(tiny_config)
  assert plan.num_kernels == 2
  assert sorted({g.spec.train.warm_start_steps for g in plan.subgrids}) == [0, 2]


def test_an_optimiser_is_one_declaration(tiny_config, monkeypatch):
  """Registered from a user's file, an optimiser is a config choice, reads only the traced
  hyper-parameters it names (others are refused as unused), sizes its state and trains."""
  monkeypatch.setattr(optim, 'OPTIMIZERS', dict(optim.OPTIMIZERS))
  lion = optim.register(optim.Optimizer('lion', ('lr', 'b1', 'b2'), 1,
                                        lambda hp, eps: optax.lion(hp['lr'], b1=hp['b1'], b2=hp['b2'])))
  assert optim.register(lion) is lion  # the same declaration again (its file imported twice) is no clash
  with pytest.raises(PluginError, match="optimiser 'lion' is already declared"):
    optim.register(optim.Optimizer('lion', ('lr',), 0, lambda hp, eps: optax.sgd(hp['lr'])))
  with pytest.raises(PluginError, match='reads rho, not declared in sslgap.hparams'):
    optim.register(optim.Optimizer('adadelta', ('lr', 'rho'), 2, lambda hp, eps: optax.adadelta(hp['lr'])))
  tiny_config.optim.kind = 'lion'
  tiny_config.hp.lr = 1e-3
  tiny_config.sweep.b2 = (0.99, 0.999)
  tiny_config.sweep.seed = (0,)
  plan, metrics = sweep.run_sweep(tiny_config)
  assert [plan.axes[i][0] for i in plan.traced] == ['b2', 'seed'] and plan.num_kernels == 1
  assert np.isfinite(metrics['test_loss']).all() and metrics['test_loss'].shape == (2, 1, 3)
  assert not np.array_equal(metrics['test_loss'][0], metrics['test_loss'][1])  # b2 reaches the run
  tiny_config.sweep.momentum = (0.5, 0.9)
  with pytest.raises(ConfigError, match='momentum is not used by this config'):
    sweep.make_plan(tiny_config)
  tiny_config.optim.kind = 'lions'
  del tiny_config.sweep['momentum']
  with pytest.raises(ConfigError, match="optim.kind.*'lions'"):
    sweep.make_plan(tiny_config)


def test_an_optimiser_declares_the_hyper_parameters_of_its_own_in_its_file(tmp_path, monkeypatch):
  """A hyper-parameter no other optimiser reads is declared beside the optimiser (sslgap.hparams is not
  edited): the config takes its default, a sweep of it is vmapped in one kernel, and it is unused (refused
  in a sweep) under every other optimiser."""
  monkeypatch.setattr(optim, 'OPTIMIZERS', dict(optim.OPTIMIZERS))
  monkeypatch.setattr(hparams, 'DECLARED', list(hparams.DECLARED))
  monkeypatch.setattr(hparams, 'BY_NAME', dict(hparams.BY_NAME))
  monkeypatch.setattr(hparams, 'PLUGGED', [])
  plugin = tmp_path / 'nesterov.py'
  plugin.write_text('import optax\nfrom sslgap import hparams, optim\n'
                    "optim.register(optim.Optimizer('nesterov', ('lr', 'pull'), 1,\n"
                    "    lambda hp, eps: optax.sgd(hp['lr'], momentum=hp['pull'], nesterov=True),\n"
                    "    declares=(hparams.HParam('pull', 'float', 0.5, low=0, high=1, high_open=True),)))\n")
  c = config_lib.base_config()
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.model.width, c.train.batch_size, c.train.steps, c.train.eval_every = 16, 16, 20, 10
  c.data.eval_train_size, c.hp.dataset_size = 64, 64
  c.plugins = (str(plugin),)
  c.optim.kind = 'nesterov'
  c.sweep.pull = (0.0, 0.9)
  c.sweep.seed = (0,)
  plan, metrics = sweep.run_sweep(c)
  assert c.hp.pull == 0.5 and [plan.axes[i][0] for i in plan.traced] == ['pull', 'seed'] and plan.num_kernels == 1
  assert not np.array_equal(metrics['test_loss'][0], metrics['test_loss'][1])  # pull reaches the run
  c.optim.kind = 'sgd'
  with pytest.raises(ConfigError, match='pull is not used by this config'):
    sweep.make_plan(c)


def test_a_metric_is_one_declaration(tiny_config, monkeypatch):
  """Registered from a user's file, a metric is recorded in the grid for the runs it applies to and
  counted in the memory estimate; for others it is absent."""
  monkeypatch.setattr(evaluation, 'METRICS', dict(evaluation.METRICS))
  readout = evaluation.Metric('readout_mean', lambda spec: ['readout_mean'] if spec.model.kind == 'mlp' else [],
                              lambda ev, params, state, key: {'readout_mean': jax.tree_util.tree_leaves(params)[-1].mean()})
  evaluation.register(readout)
  with pytest.raises(PluginError, match="metric 'readout_mean' is already declared"):
    evaluation.register(evaluation.Metric('readout_mean', lambda spec: [], None))
  tiny_config.sweep.seed = (0, 1)
  plan, metrics = sweep.run_sweep(tiny_config)
  assert 'readout_mean' in plan.subgrids[0].spec.metric_names and 'readout_mean' in metrics
  assert metrics['readout_mean'].shape == metrics['test_acc'].shape and np.isfinite(metrics['readout_mean']).all()
  assert metrics['readout_mean'][0, 0] != metrics['readout_mean'][1, 0]  # another seed, another readout
  with_metric = plan.bytes_per_run
  monkeypatch.setattr(evaluation, 'METRICS', {k: v for k, v in evaluation.METRICS.items() if k != 'readout_mean'})
  assert sweep.make_plan(tiny_config).bytes_per_run < with_metric


@claims.register
class Reaches(claims.ClaimKind):
  """A user's claim kind (here: series a's final value clears a bar): one number per seed, positive in the
  paper's direction, and sslgap.claims gives it its interval, outcome and flags."""
  name = 'reaches'

  def seed_values(self, r, c):
    final = self.values(r, c, 'a', 'final')
    return claims.SeedValues(final - c['value'], f'final {c["metric"]} above {c["value"]}')

  def describe(self, c):
    return f'[{claims.label(c["a"])}] ends with {c["metric"]} >= {c["value"]}'


def test_a_claim_kind_is_one_class(tmp_path):
  """A registered kind is evaluated and described in the report like the built-ins; a kind without
  describe, or with a taken name, is refused where it is declared."""
  acc = np.random.default_rng(0).uniform(0.8, 0.9, size=(2, 4, 3))
  config = {'name': 'g', 'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}, 'plot': {},
            'claims': [{'kind': 'reaches', 'text': 'It learns.', 'metric': 'test_acc', 'a': {'dataset_size': 64},
                        'value': 0.5, 'fixed_lr': True}]}
  path = str(tmp_path / 'g.npz')
  results.save(path, [('dataset_size', [64, 'online']), ('seed', [0, 1, 2, 3])], [0, 10, 20],
               {'test_acc': acc}, json.dumps(config))
  [verdict] = claims.evaluate_all(results.load(path))
  assert verdict.verdict == claims.REPRODUCED and 0.3 < verdict.estimate < 0.4 and verdict.seeds == 4
  assert claims.describe(config['claims'][0]) == '[dataset_size=64] ends with test_acc >= 0.5'
  experiment = catalog.Experiment('g', '1', 'learning_curves', 'g', (('small', ''),))
  text = report.markdown([report.Entry(experiment, 'small', str(tmp_path), path, 1.0, verdicts=[verdict])],
                         'small', 'a CPU', 'python -m sslgap.reproduce')
  assert '- **reproduced**: It learns.\n  - tested: [dataset_size=64] ends with test_acc >= 0.5' in text
  with pytest.raises(PluginError, match='needs a method describe'):
    @claims.register
    class NoWords(claims.ClaimKind):  # noqa: F841
      name = 'no_words'

      def seed_values(self, r, c):
        return None
  with pytest.raises(PluginError, match="claim kind 'better' is already registered"):
    @claims.register
    class Better(Reaches):  # noqa: F841
      name = 'better'


def test_an_experiment_is_one_config_file(tmp_path):
  """A config file in sweeps/ that declares EXPERIMENTS is in the catalog (after the paper's, in the
  report's order), so the report, the paper-scale rehearsal and the golden tests list it."""
  folder = tmp_path / 'sweeps'
  folder.mkdir()
  shutil.copy(os.path.join(ROOT, 'sweeps', 'fig1_parity.py'), folder / 'fig1_parity.py')
  source = open(os.path.join(ROOT, 'sweeps', 'fig1_sim.py')).read()
  assert "EXPERIMENTS = (\n    dict(id='fig1_sim'" in source
  (folder / 'a_new_one.py').write_text(source.replace("dict(id='fig1_sim', figure='1 (MLP, SIM)'",
                                                      "dict(id='mine', figure='mine'"))
  found = catalog.collect(str(folder))
  assert [e.id for e in found] == ['fig1_parity', 'mine']
  mine = found[1]
  assert mine.config == 'a_new_one' and mine.preset('small') == 'small' and mine.has('paper')
  assert mine.command('small') == 'python experiments/learning_curves.py --config=sweeps/a_new_one.py:small'
  (folder / 'twice.py').write_text(source.replace("dict(id='fig1_sim'", "dict(id='mine'"))
  with pytest.raises(config_lib.ConfigFileError, match='experiment ids declared twice: mine'):
    catalog.collect(str(folder))
  (folder / 'twice.py').write_text(source.replace("dict(id='fig1_sim', ", "dict(id='bad', scale='x', "))
  with pytest.raises(config_lib.ConfigFileError, match=r"twice.py: EXPERIMENTS entry .* unknown keys \['scale'\]"):
    catalog.collect(str(folder))


def test_the_catalog_is_what_the_config_files_declare():
  ids = [e.id for e in catalog.EXPERIMENTS]
  assert len(ids) == len(set(ids)) and ids[:2] == ['fig6_init', 'fig6_lr']
  files = {f[:-3] for f in os.listdir(os.path.join(ROOT, 'sweeps')) if f.endswith('.py')}
  assert {e.config for e in catalog.EXPERIMENTS} == files  # every config file declares its experiments


def test_a_plug_in_file_imported_again_registers_its_optimiser_and_metric_once(tmp_path, monkeypatch):
  """A plug-in and its config in one file is imported as the config and as the plug-in: the same
  declarations from the same lines are one registration, not a clash."""
  monkeypatch.setattr(optim, 'OPTIMIZERS', dict(optim.OPTIMIZERS))
  monkeypatch.setattr(evaluation, 'METRICS', dict(evaluation.METRICS))
  path = tmp_path / 'mine.py'
  path.write_text('import optax\nfrom sslgap import evaluation, optim\n'
                  "optim.register(optim.Optimizer('lion_again', ('lr',), 1, lambda hp, eps: optax.lion(hp['lr'])))\n"
                  "evaluation.register(evaluation.Metric('nothing', lambda spec: [], lambda *a: {}))\n")
  plugins.import_file(str(path), 'sslgap_config', again=True)
  plugins.import_file(str(path), 'sslgap_plugin', again=True)
  assert 'lion_again' in optim.OPTIMIZERS and 'nothing' in evaluation.METRICS
