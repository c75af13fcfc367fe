"""The mechanisms behind the paper's MLP experiments: each checked on what it promises."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import config as config_lib
from sslgap import data as data_lib
from sslgap import models
from sslgap import parameterization
from sslgap import schedules
from sslgap import sweep
from sslgap import tasks
from sslgap import train
from sslgap import spec as spec_lib


def _data(config, seed=0):
  task = tasks.make_task(config.task)
  pool = spec_lib.derive(config).pool_size
  stacked = data_lib.build_data(task, pool, config.task.test_size, [seed], config.data.debias)
  return data_lib.select_seed(stacked, 0), pool


# --- debiased datasets (Fig 3a) ----------------------------------------------------------

def test_parity_mean_debiasing_zeroes_column_means_of_every_even_prefix():
  task = tasks.SparseParity(n=20, k=6)
  pool = np.asarray(data_lib.build_data(task, 512, 16, [3], 'mean').pool_x[0], np.float64)
  for size in (2, 64, 512):
    np.testing.assert_array_equal(pool[:size].mean(axis=0), 0.0)
  assert len({row.tobytes() for row in pool}) >= 500  # distinct but for rare antipodal repeats


def test_parity_second_order_debiasing_zeroes_means_pairs_and_labels():
  task = tasks.SparseParity(n=20, k=6)
  data = data_lib.build_data(task, 1024, 16, [4], 'second_order')
  x, y = np.asarray(data.pool_x[0], np.float64), np.asarray(data.pool_y[0])
  np.testing.assert_array_equal(y, np.prod(x[:, :6], axis=1))  # labels recomputed from the inputs
  for size in (32, 256, 1024):
    sub = x[:size]
    np.testing.assert_array_equal(sub.mean(axis=0), 0.0)
    second = sub.T @ sub / size
    np.testing.assert_array_equal(second - np.diag(np.diag(second)), 0.0)
    assert y[:size].mean() == 0.0
  # A plain pool has none of this.
  plain = np.asarray(data_lib.build_data(task, 1024, 16, [4]).pool_x[0], np.float64)
  assert np.abs(plain.mean(axis=0)).max() > 0.02


def test_sim_whitening_gives_mean_zero_identity_covariance():
  task = tasks.SingleIndex(d=8, degree=3)
  data = data_lib.build_data(task, 300, 16, [5], 'whiten')
  x = np.asarray(data.pool_x[0], np.float64)
  np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-5)
  np.testing.assert_allclose(x.T @ x / 300, np.eye(8), atol=1e-4)
  data = data_lib.select_seed(data, 0)
  np.testing.assert_allclose(np.asarray(data.pool_y), np.asarray(task.label(data.target, data.pool_x)),
                             rtol=1e-5, atol=1e-5)


def test_debias_sizes_must_be_exact_multiples(tiny_config):
  tiny_config.data.debias = 'second_order'
  tiny_config.hp.dataset_size = 40
  with pytest.raises(config_lib.ConfigError, match='multiples of 16'):
    config_lib.validate(tiny_config)


# --- random labels (Fig 4) ---------------------------------------------------------------

def test_random_labels_are_fixed_per_example_and_ignore_the_input(tiny_config):
  c = tiny_config
  c.hp.phase_sizes, c.hp.phase_lengths = (64, 'online'), (10,)
  c.hp.random_label_phases = 1
  data, pool = _data(c)
  trainer = train.Run(spec_lib.derive(c))
  hp = spec_lib.run_hp(c)
  _, parts = trainer.start(hp, data)
  state = schedules.PhaseState(jnp.int32(0), jnp.int32(0))
  seen = {}
  for step in range(6):
    key = jax.random.fold_in(jax.random.key(1), step)
    index = data_lib.batch_indices(0, 0, 64, step, 16, 'with_replacement', key, key)
    x, y = parts.examples.minibatch(state, jnp.int32(64), step, key)
    np.testing.assert_array_equal(np.asarray(y), np.asarray(data.pool_y_random)[np.asarray(index)])
    for i, label in zip(np.asarray(index), np.asarray(y)):
      assert seen.setdefault(int(i), label) == label  # the same label every time it is drawn
  agreement = np.mean(np.asarray(data.pool_y_random) == np.asarray(data.pool_y))
  assert 0.3 < agreement < 0.7
  # After phase 1 the true labels come back.
  later = schedules.PhaseState(jnp.int32(1), jnp.int32(10))
  x, y = parts.examples.minibatch(later, jnp.int32(0), 12, key)
  np.testing.assert_array_equal(np.asarray(y), np.prod(np.asarray(x, np.float32)[:, :3], axis=1))


def test_sim_random_labels_come_from_an_unrelated_direction():
  task = tasks.SingleIndex(d=30, degree=3)
  target = task.init_target(jax.random.key(0))
  assert abs(float(target['w'] @ target['w_random'])) < 0.5
  x, y = task.sample(target, jax.random.key(1), 20000)
  y_random = task.random_labels(target, None, x)
  assert abs(np.corrcoef(np.asarray(y), np.asarray(y_random))[0, 1]) < 0.1
  assert abs(float(jnp.var(y_random)) - 1.0) < 0.1


# --- biased online distributions (Fig 3b) and two-set batches ----------------------------

def test_biased_online_samples_follow_the_m_sample_frequencies(tiny_config):
  c = tiny_config
  c.hp.dataset_size = 'online'
  c.sweep.online_bias_samples = (0, 32)
  data, pool = _data(c)
  assert pool == 32
  trainer = train.Run(spec_lib.derive(c))
  p_zero = trainer.start(spec_lib.run_hp(c, {'online_bias_samples': 0}), data)[1].examples.bias
  np.testing.assert_array_equal(np.asarray(p_zero), 0.5)
  p = trainer.start(spec_lib.run_hp(c, {'online_bias_samples': 32}), data)[1].examples.bias
  np.testing.assert_allclose(np.asarray(p), (np.asarray(data.pool_x)[:32] == 1).mean(axis=0), rtol=1e-6)
  x, y = trainer.spec.task.sample_biased(data.target, jax.random.key(2), 200000, p)
  np.testing.assert_allclose((np.asarray(x) == 1).mean(axis=0), np.asarray(p), atol=0.01)


def test_two_set_batches_take_the_leading_fraction_from_the_small_set(tiny_config):
  c = tiny_config
  c.sweep.pool_fraction = (0.25,)
  data, pool = _data(c)
  trainer = train.Run(spec_lib.derive(c))
  assert trainer.spec.uses_fresh
  hp = spec_lib.run_hp(c, {'pool_fraction': 0.25})
  key = jax.random.key(3)
  state = schedules.PhaseState(jnp.int32(0), jnp.int32(0))
  x, _ = trainer.start(hp, data)[1].examples.minibatch(state, jnp.int32(64), 0, key)
  index = np.asarray(data_lib.batch_indices(0, 0, 64, 0, 16, 'with_replacement', key, key))
  pool_x = np.asarray(data.pool_x)
  np.testing.assert_array_equal(np.asarray(x)[:4], pool_x[index[:4]])
  assert not np.array_equal(np.asarray(x)[4:], pool_x[index[4:]])


# --- the auto-schedule (Fig 19) -----------------------------------------------------------

def _auto(tiny_config, acc, epochs):
  c = tiny_config
  c.data.schedule, c.data.auto_check_every = 'auto', 5
  c.hp.phase_sizes = (32, 64, 128)
  c.hp.auto_train_acc, c.hp.auto_max_epochs = acc, epochs
  c.task.n = 10
  data, pool = _data(c)
  trainer = train.Run(spec_lib.derive(c))
  hp = spec_lib.run_hp(c)
  params, _ = trainer.init_params(hp, jax.random.key(0))
  _, parts = trainer.start(hp, data)
  return jax.jit(lambda state, step: parts.schedule.at(state, params, step))


def test_auto_schedule_advances_at_the_first_check_when_accuracy_suffices(tiny_config):
  advance = _auto(tiny_config, acc=0.0, epochs=1000.0)
  start = schedules.PhaseState(jnp.int32(0), jnp.int32(0))
  for step in range(1, 5):  # not a check step
    assert int(advance(start, step).phase) == 0
  moved = advance(start, 5)
  assert (int(moved.phase), int(moved.start)) == (1, 5)
  last = schedules.PhaseState(jnp.int32(2), jnp.int32(5))
  assert int(advance(last, 10).phase) == 2  # the last phase runs to the end


def test_auto_schedule_advances_after_max_epochs_without_accuracy(tiny_config):
  advance = _auto(tiny_config, acc=1.0, epochs=5.0)  # 5 epochs of 32 examples, batch 16: 10 steps
  start = schedules.PhaseState(jnp.int32(0), jnp.int32(0))
  assert int(advance(start, 5).phase) == 0
  assert (int(advance(start, 10).phase), int(advance(start, 10).start)) == (1, 10)
  second = schedules.PhaseState(jnp.int32(1), jnp.int32(10))  # 64 examples: 20 steps
  assert int(advance(second, 25).phase) == 1 and int(advance(second, 30).phase) == 2


def test_auto_schedule_runs_in_a_sweep_and_each_run_moves_on_its_own(tiny_config):
  c = tiny_config
  c.data.schedule, c.data.auto_check_every = 'auto', 5
  c.train.steps, c.train.eval_every = 60, 20
  c.hp.phase_sizes = (16, 32, 64)
  c.sweep.auto_train_acc = (0.0, 1.0)
  _, metrics = sweep.run_sweep(c)
  # Accuracy 0 moves through both phases in 10 steps, so the probe covers all 64 examples by step 20.
  assert np.all(np.isfinite(metrics['train_loss']))
  assert not np.allclose(metrics['train_loss'][0], metrics['train_loss'][1])


# --- parameterisations (Figs 7, 21-23) ----------------------------------------------------

def test_alpha_divides_the_first_layer_and_multiplies_the_rest(tiny_config):
  c = tiny_config
  c.model.hidden_layers = 2
  trainer = train.Run(spec_lib.derive(c))
  key = jax.random.key(1)
  base, _ = trainer.init_params(spec_lib.run_hp(c), key)
  scaled, _ = trainer.init_params(spec_lib.run_hp(c, {'alpha': 4.0}), key)
  for name in base:
    factor = 0.25 if name == 'hidden_0' else 4.0
    np.testing.assert_allclose(np.asarray(scaled[name]['kernel']), factor * np.asarray(base[name]['kernel']),
                               rtol=1e-6)


def _coord_change(kind, width, lr, steps=3):
  """Mean |change| of the output on a fixed batch after a few SGD steps (a muP coord check)."""
  c = config_lib.base_config()
  c.task.n, c.task.k = 20, 6
  c.model.hidden_layers, c.model.width, c.model.parameterization = 2, width, kind
  c.hp.lr = lr
  trainer = train.Run(spec_lib.derive(c))
  hp = spec_lib.run_hp(c)

  @jax.jit  # one compile for init, data and steps, not one per operation of eager ones (63 in this test)
  def change():
    p, groups = trainer.init_params(hp, jax.random.key(0))
    optimizer = trainer.make_optimizer(hp, p, groups)
    x, y = trainer.spec.task.sample({}, jax.random.key(1), 256)
    apply = lambda p: trainer.net.apply({'params': p}, x)
    before, state = apply(p), optimizer.init(p)
    for _ in range(steps):
      updates, state = optimizer.update(jax.grad(trainer.mean_loss)(p, x, y), state, p)
      p = jax.tree_util.tree_map(jnp.add, p, updates)
    return jnp.mean(jnp.abs(apply(p) - before))

  return float(change())


def test_mup_coord_check_output_updates_do_not_grow_with_width():
  widths = (64, 256, 1024)
  standard = [_coord_change('standard', w, lr=0.02) for w in widths]
  mup = [_coord_change('mup', w, lr=0.02) for w in widths]
  assert standard[-1] / standard[0] > 4  # standard parameterisation: grows with width
  assert 0.33 < mup[-1] / mup[0] < 3  # muP: the same order at every width
  assert mup[0] > 1e-3  # and it does move


def test_mup_multipliers_follow_tensor_programs_v():
  params = models.MLP(hidden_layers=2, width=128).init(jax.random.key(0), jnp.zeros((1, 10)))['params']
  init, lr = parameterization.multipliers('mup', params)
  assert init['readout']['kernel'] == pytest.approx(128**-0.5) and init['hidden_0']['kernel'] == 1.0
  assert lr['hidden_0']['kernel'] == 128 and lr['hidden_1']['kernel'] == 1.0
  assert lr['readout']['kernel'] == pytest.approx(1 / 128) and lr['hidden_1']['bias'] == 128
