import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import data as data_lib
from sslgap import tasks


def test_parity_labels_are_the_product_over_the_support():
  task = tasks.SparseParity(n=10, k=4)
  x, y = task.sample({}, jax.random.key(0), 5000)
  x, y = np.asarray(x, np.float32), np.asarray(y)
  assert set(np.unique(x)) == {-1.0, 1.0}
  np.testing.assert_array_equal(y, np.prod(x[:, :4], axis=1))
  # Coordinates are fair coins and the label is balanced.
  assert np.all(np.abs(x.mean(axis=0)) < 0.06)
  assert abs(y.mean()) < 0.06


def test_full_parity_uses_every_coordinate():
  task = tasks.SparseParity(n=6, k=6)
  x, y = task.sample({}, jax.random.key(1), 100)
  np.testing.assert_array_equal(np.asarray(y), np.prod(np.asarray(x, np.float32), axis=1))


def test_parity_population_is_every_input_once():
  task = tasks.SparseParity(n=8, k=3)
  x, y = task.population({}, jax.random.key(2))
  x = np.asarray(x)
  assert x.shape == (256, 8)
  assert len({row.tobytes() for row in x}) == 256
  np.testing.assert_array_equal(np.asarray(y), np.prod(x[:, :3].astype(np.float32), axis=1))


@pytest.mark.parametrize('degree,formula', [
    (2, lambda z: (z**2 - 1) / math.sqrt(2)),
    (3, lambda z: (z**3 - 3 * z) / math.sqrt(6)),
])
def test_sim_labels_are_normalised_hermite_of_projection(degree, formula):
  task = tasks.SingleIndex(d=12, degree=degree)
  target = task.init_target(jax.random.key(3))
  np.testing.assert_allclose(float(jnp.linalg.norm(target['w'])), 1.0, rtol=1e-6)
  x, y = task.sample(target, jax.random.key(4), 1000)
  z = np.asarray(x) @ np.asarray(target['w'])
  np.testing.assert_allclose(np.asarray(y), formula(z), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize('degree', [2, 3, 4])
def test_normalised_hermite_has_zero_mean_unit_variance(degree):
  z = jax.random.normal(jax.random.key(5), (2_000_000,))
  he = np.asarray(tasks.hermite_normalized(degree, z), np.float64)
  assert abs(he.mean()) < 0.01
  assert abs(he.var() - 1.0) < 0.03


def test_pools_are_shared_prefixes_and_seeded():
  task = tasks.SparseParity(n=8, k=3)
  big = data_lib.build_data(task, 200, 32, [0, 1])
  small = data_lib.build_data(task, 50, 32, [0])
  np.testing.assert_array_equal(np.asarray(big.pool_x[0, :50]), np.asarray(small.pool_x[0]))
  assert not np.array_equal(np.asarray(big.pool_x[0]), np.asarray(big.pool_x[1]))
  # A parity pool below the population size has no repeated inputs.
  assert len({row.tobytes() for row in np.asarray(big.pool_x[0])}) == 200


def test_modular_addition_holds_its_test_pairs_out_of_training():
  from sslgap import data as data_lib
  task = tasks.ModularAddition(p=11, base=3, held_out=40)
  assert task.population_size == 81
  data = data_lib.select_seed(data_lib.build_data(task, task.population_size, 40, [0]), 0)
  pairs = lambda x: set(zip(*(np.asarray(v).tolist() for v in task.decode(x))))  # one decode for all rows
  train, test = pairs(data.pool_x), pairs(data.test_x)
  assert len(train) == 81 and len(test) == 40 and not train & test  # every pair once, and never both
  fresh, _ = task.sample(data.target, jax.random.key(3), 4000)
  assert not pairs(fresh) & test  # online batches come from the training pairs
  np.testing.assert_array_equal(np.asarray(data.test_y), np.asarray(task.label(data.target, data.test_x)))
  other = data_lib.select_seed(data_lib.build_data(task, 81, 40, [1]), 0)
  assert pairs(other.test_x) != test  # the split is the data seed's


def test_a_held_out_split_is_checked_against_the_test_size(tiny_config):
  from sslgap import config as config_lib
  config_lib.set_task(tiny_config, name='modadd', p=11, base=3, held_out=40, test_size=64)
  config_lib.set_transformer(tiny_config, layers=1, dim=8, heads=2, causal=True, readout='last')
  tiny_config.loss = 'cross_entropy'
  with pytest.raises(config_lib.ConfigError, match='config.task.test_size: the test set is drawn from the 40 held-out'):
    config_lib.validate(tiny_config)
  tiny_config.task.test_size, tiny_config.hp.dataset_size = 40, 100
  with pytest.raises(config_lib.ConfigError, match='exceeds the population size 81'):
    config_lib.validate(tiny_config)
