import glob
import importlib.util
import os

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import config as config_lib
from sslgap import stats
from sslgap import sweep
from sslgap.models import quadratic_neuron as theory

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_projection_keeps_a_in_range_and_w_on_the_sphere():
  keys = jax.random.split(jax.random.key(0), 4)
  a = jax.random.uniform(keys[0], (100,), minval=-1, maxval=1)
  w = jax.random.normal(keys[1], (100, 16))
  w = w / jnp.linalg.norm(w, axis=1, keepdims=True)
  ga = 10 * jax.random.normal(keys[2], (100,))
  gw = 10 * jax.random.normal(keys[3], (100, 16))
  a2, w2 = jax.vmap(theory.projected_step, in_axes=(0, 0, 0, 0, None))(a, w, ga, gw, 0.5)
  assert float(jnp.max(jnp.abs(a2))) <= 1.0 and float(jnp.max(jnp.abs(a2))) == 1.0  # clipping happened
  np.testing.assert_allclose(np.asarray(jnp.linalg.norm(w2, axis=1)), 1.0, rtol=1e-6)


def test_population_gradient_matches_a_large_sample():
  d = 8
  x = jax.random.rademacher(jax.random.key(1), (200000, d)).astype(jnp.float32)
  y = x[:, 0] * x[:, 1]
  w = jax.random.normal(jax.random.key(2), (d,))
  w = w / jnp.linalg.norm(w)
  ga, gw = theory.population_grads(0.3, w)
  ga_s, gw_s = theory.dataset_grads(0.3, w, x, y, jnp.ones(200000), 200000)
  np.testing.assert_allclose(float(ga_s), float(ga), atol=0.01)
  np.testing.assert_allclose(np.asarray(gw_s), np.asarray(gw), atol=0.01)


def _theory_sweep(random_labels):
  c = config_lib.base_config()
  c.task.n, c.task.k = 64, 2
  c.model.kind, c.model.width = 'quadratic_neuron', 64
  c.train.steps, c.train.eval_every = 800, 800
  c.hp.lr, c.hp.a_star, c.hp.random_label_phases = 0.05, 0.5, random_labels
  c.sweep.dataset_size = (64, 256, 1024, 4096)
  c.sweep.seed = tuple(range(8))
  _, metrics = sweep.run_sweep(c)
  assert np.all(np.abs(metrics['abs_a']) <= 1.0) and np.all(metrics['alignment'] <= 1.0 + 1e-6)
  reached = metrics['abs_a'][..., -1] >= 0.5
  assert reached.all()
  return np.median(metrics['phase1_steps'][..., -1], axis=-1)


def test_phase_one_steps_grow_like_the_square_root_of_n():
  """Corollary 2 (random labels, pure sampling bias): slope 0.5 measured 0.54; Theorem 1's
  bound a* sqrt(N) / eta holds with true labels."""
  sizes = np.array([64, 256, 1024, 4096])
  t1_random = _theory_sweep(1)
  assert 0.35 < stats.fitted_loglog_slope(sizes, t1_random) < 0.7
  t1_true = _theory_sweep(0)
  assert np.all(t1_true <= 0.5 * np.sqrt(sizes) / 0.05)
  assert np.all(np.diff(t1_true) > 0)  # more data, more phase-1 steps


@pytest.mark.parametrize('path', sorted(glob.glob(os.path.join(ROOT, 'sweeps', '*.py'))))
def test_every_sweep_config_plans_at_both_presets(path):
  spec = importlib.util.spec_from_file_location('sweep_config', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  assert 'python experiments/' in module.__doc__ and ':small' in module.__doc__
  presets = getattr(module, 'PRESETS', ('small', None))
  for preset in presets:
    plan = sweep.make_plan(module.get_config(preset))
    assert plan.num_runs > 0
    if preset and preset.endswith('small'):
      work = plan.num_runs * plan.config.train.steps
      assert work <= (3_000_000 if plan.config.model.kind != 'transformer' else 60_000)  # minutes on 2 cores
