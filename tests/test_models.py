import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import models
from sslgap import train
from sslgap import spec as spec_lib


def _params(scheme, width=256, din=200, hidden_layers=2, key=0):
  model = models.MLP(hidden_layers=hidden_layers, width=width, init_scheme=scheme)
  return model.init(jax.random.key(key), jnp.zeros((1, din)))['params']


@pytest.mark.parametrize('scheme', ['uniform', 'gaussian'])
def test_init_matches_pytorch_default_statistics(scheme):
  params = _params(scheme)
  fan_ins = {'hidden_0': 200, 'hidden_1': 256, 'readout': 256}
  assert set(params) == set(fan_ins)
  for name, fan_in in fan_ins.items():
    bound = fan_in**-0.5
    for leaf in ('kernel', 'bias'):
      w = np.asarray(params[name][leaf], np.float64)
      if scheme == 'uniform':
        assert np.abs(w).max() <= bound
      # Variance of U(-b, b) is b^2 / 3, the Gaussian variant's by construction.
      if w.size >= 1000:
        assert abs(w.var() / (bound**2 / 3) - 1) < 0.05, (name, leaf)
        assert abs(w.mean()) < 0.05 * bound
  if scheme == 'uniform':
    w = np.asarray(params['hidden_0']['kernel'])
    assert np.abs(w).max() > 0.99 * 200**-0.5  # fills the whole interval


def test_layer_groups_follow_the_rules():
  params = _params('uniform', width=4, din=3)
  groups = models.layer_groups(params, (('hidden_0', 'first'), ('.*', 'rest')))
  assert groups['hidden_0'] == {'kernel': 'first', 'bias': 'first'}
  assert groups['hidden_1']['kernel'] == 'rest' and groups['readout']['bias'] == 'rest'
  with pytest.raises(ValueError, match='no rule matches'):
    models.layer_groups(params, (('hidden_0', 'first'),))


def test_init_scale_multipliers_scale_exactly(tiny_config):
  c = tiny_config
  c.model.hidden_layers = 2
  trainer = train.Run(spec_lib.derive(c))
  key = jax.random.key(7)
  base, _ = trainer.init_params(spec_lib.run_hp(c), key)
  scaled, _ = trainer.init_params(spec_lib.run_hp(c, {'init_scale_first': 0.25, 'init_scale_rest': 3.0}), key)
  for name, layer in base.items():
    factor = 0.25 if name == 'hidden_0' else 3.0
    for leaf in ('kernel', 'bias'):
      np.testing.assert_array_equal(np.asarray(scaled[name][leaf]),
                                    np.asarray(layer[leaf]) * np.float32(factor))


def test_positive_homogeneity_of_a_scaled_relu_layer():
  # Why init scales act on weights and biases together: a ReLU layer scaled by c scales its output by c.
  params = _params('uniform', width=8, din=5, hidden_layers=1)
  model = models.MLP(hidden_layers=1, width=8)
  x = jax.random.normal(jax.random.key(1), (10, 5))
  scaled = jax.tree_util.tree_map(lambda p: p, params)
  scaled['hidden_0'] = jax.tree_util.tree_map(lambda p: 2.5 * p, params['hidden_0'])
  scaled['readout'] = {'kernel': params['readout']['kernel'], 'bias': 2.5 * params['readout']['bias']}
  np.testing.assert_allclose(model.apply({'params': scaled}, x), 2.5 * model.apply({'params': params}, x),
                             rtol=1e-5, atol=1e-6)


def test_a_models_parameter_count_is_its_inits_and_traced_once(tiny_config, monkeypatch):
  """The engine asks for the count at every chunk it sizes; tracing init each time cost a design's test 8 s."""
  model = spec_lib.derive(tiny_config).model
  builds = []
  build = type(model).build
  monkeypatch.setattr(type(model), 'build', lambda self: builds.append(self) or build(self))
  din, width = tiny_config.task.n, tiny_config.model.width
  expected = (din + 1) * width + (tiny_config.model.hidden_layers - 1) * (width + 1) * width + width + 1
  assert model.param_count() == model.param_count() == expected
  assert len(builds) == 1
