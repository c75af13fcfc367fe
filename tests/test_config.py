import os

import pytest

from sslgap import config as config_lib
from sslgap import sweep
from sslgap import train


@pytest.fixture
def no_compile(monkeypatch):
  """Fails the test if anything tries to build a run (and so compile) after a bad config."""
  def refuse(*args, **kwargs):
    raise AssertionError('a run was built for an invalid config')
  monkeypatch.setattr(train, 'make_run', refuse)


def _expect(config, key, match):
  with pytest.raises(config_lib.ConfigError, match=match) as info:
    sweep.run_sweep(config)
  assert info.value.key == key
  assert str(info.value).startswith(f'config.{key}:')


def test_unknown_task(tiny_config, no_compile):
  tiny_config.task.name = 'sorting'
  _expect(tiny_config, 'task.name', "unknown value 'sorting'")


def test_k_larger_than_n(tiny_config, no_compile):
  tiny_config.task.k = 9
  _expect(tiny_config, 'task.k', 'k=9 must not exceed n=8')


def test_task_fields_must_match_the_task(tiny_config, no_compile):
  tiny_config.task.name = 'sim'
  _expect(tiny_config, 'task', r"task 'sim' needs fields \['d', 'degree'\]")


def test_phase_sizes_must_increase(tiny_config, no_compile):
  tiny_config.hp.phase_sizes = (64, 32, 'online')
  tiny_config.hp.phase_lengths = (5, 5)
  _expect(tiny_config, 'hp.phase_sizes', 'must not decrease')


def test_swept_phase_sizes_are_checked_too(tiny_config, no_compile):
  tiny_config.hp.phase_sizes, tiny_config.hp.phase_lengths = (16, 'online'), (5,)
  tiny_config.sweep.phase_sizes = ((16, 'online'), ('online', 16))
  _expect(tiny_config, 'sweep.phase_sizes[1]', 'must not decrease')


def test_unknown_swept_key(tiny_config, no_compile):
  tiny_config.sweep.learning_rate = (0.1, 0.2)
  _expect(tiny_config, 'sweep.learning_rate', "neither an hp key")


def test_swept_key_that_the_config_does_not_use(tiny_config, no_compile):
  tiny_config.sweep.b2 = (0.9, 0.99)
  _expect(tiny_config, 'sweep.b2', "optim.kind='sgd'")


def test_value_of_the_wrong_type(tiny_config, no_compile):
  tiny_config.sweep.lr = (0.1, 'fast')
  _expect(tiny_config, 'sweep.lr[1]', 'must be a finite number')
  del tiny_config.sweep['lr']
  tiny_config.sweep.model__width = (16, 'wide')
  _expect(tiny_config, 'sweep.model__width[1]', 'must be of type int')


def test_batch_larger_than_a_dataset_without_replacement(tiny_config, no_compile):
  tiny_config.data.sampling = 'without_replacement'
  tiny_config.sweep.dataset_size = (64, 8)
  _expect(tiny_config, 'sweep.dataset_size[1]', 'batch_size=16 is larger than the dataset')


def test_dataset_larger_than_the_population(tiny_config, no_compile):
  tiny_config.hp.dataset_size = 1000
  _expect(tiny_config, 'hp.dataset_size', 'exceeds the population size 256')


def test_full_batch_needs_a_finite_dataset(tiny_config, no_compile):
  tiny_config.data.mode = 'full_batch'
  tiny_config.hp.dataset_size = 0
  _expect(tiny_config, 'hp.dataset_size', 'full-batch GD needs a finite dataset')


def test_static_axis_values_are_checked_per_point(tiny_config, no_compile):
  tiny_config.sweep.task__k = (3, 12)
  _expect(tiny_config, 'task.k', 'k=12 must not exceed n=8')


def test_eval_every_must_divide_steps(tiny_config, no_compile):
  tiny_config.train.eval_every = 7
  _expect(tiny_config, 'train.eval_every', 'must divide train.steps=20')


def test_hinge_loss_needs_sign_labels(tiny_config, no_compile):
  config_lib.set_task(tiny_config, name='sim', d=4, degree=3, test_size=64)
  _expect(tiny_config, 'loss', "task 'sim' has real labels, which need one of \\('square',\\)")


def test_static_axis_loops_outside(tiny_config):
  tiny_config.sweep.model__width = (4, 8)
  tiny_config.sweep.seed = (0, 1)
  plan, metrics = sweep.run_sweep(tiny_config)
  assert [name for name, _ in plan.axes] == ['model__width', 'seed']
  assert len({g.kernel_id for g in plan.subgrids}) == 2
  assert metrics['norm_hidden_0'].shape == (2, 2, 3)


def test_every_preset_of_every_experiment_passes_the_checks():
  """A preset that fails its checks (say an eval_every that does not divide the steps) would only be
  found when someone runs it, perhaps after an hour of the presets before it in a report."""
  from sslgap import catalog
  for experiment in catalog.EXPERIMENTS:
    for scale in catalog.SCALES:
      if experiment.has(scale):
        config_lib.validate(catalog.load_config(experiment, scale))
  for example in ('staircase', 'residual_mlp'):
    for preset in (':small', ''):
      config_lib.validate(config_lib.load(os.path.join(catalog.ROOT, 'examples', f'{example}.py{preset}')))
