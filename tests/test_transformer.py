"""The Transformer and its tasks: masks, QK norm, QK groups, last-token readout, digit encoding."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import config as config_lib
from sslgap import data as data_lib
from sslgap import tasks
from sslgap import train
from sslgap.models import transformer
from sslgap import spec as spec_lib


def _model(causal=False, qk_norm=False, readout='mean', vocab=5, out_dim=1):
  return transformer.Transformer(layers=2, heads=2, dim=16, mlp_ratio=2, causal=causal, qk_norm=qk_norm,
                                 readout=readout, encoding='ids', vocab=vocab, out_dim=out_dim)


def _hidden(model, params, x):
  """The final-LayerNorm states [B, S, D] (captured intermediates)."""
  _, state = model.apply({'params': params}, x, capture_intermediates=lambda m, _: m.name == 'ln_final',
                         mutable=['intermediates'])
  return state['intermediates']['ln_final']['__call__'][0]


@pytest.mark.parametrize('causal', [True, False])
def test_causal_mask_hides_the_future_and_only_it(causal):
  model = _model(causal=causal)
  x = jax.random.randint(jax.random.key(0), (3, 8), 0, 5)
  params = jax.jit(model.init)(jax.random.key(1), x)['params']  # jitted: eagerly, each operation compiles alone
  changed = x.at[:, 5].set((x[:, 5] + 1) % 5)
  hidden = jax.jit(lambda tokens: _hidden(model, params, tokens))
  before, after = hidden(x), hidden(changed)
  moved = np.abs(np.asarray(after - before)).max(axis=(0, 2))
  assert moved[5:].min() > 1e-4
  if causal:
    np.testing.assert_array_equal(moved[:5], 0.0)
  else:
    assert moved[:5].min() > 1e-4


def test_qk_norm_fixes_the_logit_scale():
  x = jax.random.normal(jax.random.key(0), (2, 6, 16))
  for qk_norm in (False, True):
    attn = transformer.Attention(dim=16, heads=2, causal=False, qk_norm=qk_norm)
    params = attn.init(jax.random.key(1), x)['params']
    logits = lambda p: attn.apply({'params': p}, x, method=transformer.Attention.logits)
    big = dict(params, q=jax.tree_util.tree_map(lambda w: 10 * w, params['q']),
               k=jax.tree_util.tree_map(lambda w: 10 * w, params['k']))
    ratio = float(jnp.std(logits(big)) / jnp.std(logits(params)))
    if qk_norm:
      assert ratio == pytest.approx(1.0, rel=1e-3)  # RMS-normalised queries and keys
      assert float(jnp.abs(logits(big)).max()) <= np.sqrt(8) + 1e-3  # |q.k| / sqrt(d) <= sqrt(d) at scale 1
    else:
      assert ratio == pytest.approx(100.0, rel=1e-3)  # both factors of 10 reach the logits


def test_last_token_readout_uses_only_the_last_position():
  model = _model(readout='last')
  x = jax.random.randint(jax.random.key(2), (4, 7), 0, 5)
  params = model.init(jax.random.key(3), x)['params']
  h = _hidden(model, params, x)
  readout = params['readout']
  np.testing.assert_allclose(np.asarray(model.apply({'params': params}, x)),
                             np.asarray((h[:, -1] @ readout['kernel'] + readout['bias'])[:, 0]), rtol=1e-5, atol=1e-6)


def test_icl_examples_hold_the_context_and_the_query():
  task = tasks.InContextRegression(d=3, context=5)
  x, y = task.sample({}, jax.random.key(0), 4)
  x, y = np.asarray(x), np.asarray(y)
  assert x.shape == (4, 11, 4)
  np.testing.assert_array_equal(x[:, 0::2, 3], 0.0)  # x tokens carry no y
  np.testing.assert_array_equal(x[:, 1::2, :3], 0.0)  # y tokens carry no x
  for n in range(4):  # one w fits the context and gives the query's label
    w = np.linalg.lstsq(x[n, 0:-1:2, :3], x[n, 1::2, 3], rcond=None)[0]
    np.testing.assert_allclose(x[n, -1, :3] @ w, y[n], rtol=1e-4, atol=1e-5)


def test_icl_loss_is_on_the_last_token_only(transformer_config):
  c = config_lib.set_task(transformer_config, name='icl', d=3, context=5, test_size=64)
  c.loss, c.model.readout = 'square', 'last'
  trainer = train.Run(spec_lib.derive(c))
  params = jax.jit(lambda hp, key: trainer.init_params(hp, key)[0])(spec_lib.run_hp(c), jax.random.key(0))
  x, y = trainer.spec.task.sample({}, jax.random.key(1), 8)
  h = jax.jit(lambda p, x: _hidden(trainer.net, p, x))(params, x)  # compiled once, not op by op
  last = (h[:, -1] @ params['readout']['kernel'] + params['readout']['bias'])[:, 0]
  np.testing.assert_allclose(float(jax.jit(trainer.mean_loss)(params, x, y)), float(jnp.mean((last - y)**2)), rtol=1e-5)


def test_digit_encoding_round_trips_for_every_pair():
  task = tasks.ModularAddition(p=23, base=3)
  assert task.digits == 3 and task.example_shape == (8,)
  a, b = jnp.meshgrid(jnp.arange(23), jnp.arange(23))
  x = task.encode(a.ravel(), b.ravel())
  assert int(x.max()) <= task.equals and np.all(np.asarray(x[:, 3]) == task.plus)
  decoded = task.decode(x)
  np.testing.assert_array_equal(np.asarray(decoded[0]), np.asarray(a.ravel()))
  np.testing.assert_array_equal(np.asarray(decoded[1]), np.asarray(b.ravel()))
  np.testing.assert_array_equal(np.asarray(task.label({}, x)), np.asarray((a + b).ravel() % 23))
  population = task.population({}, jax.random.key(0))[0]
  assert len({row.tobytes() for row in np.asarray(population)}) == 23 * 23


@pytest.fixture
def transformer_config(tiny_config):
  c = config_lib.set_transformer(tiny_config, layers=1, heads=2, dim=8, mlp_ratio=2)
  c.optim.kind, c.hp.lr, c.hp.weight_decay = 'adamw', 1e-2, 0.0
  c.task.test_size = 64
  c.train.steps, c.train.eval_every = 4, 2
  return c


def _compiled_init(trainer):
  """trainer.init_params compiled once (eagerly, each operation of a Transformer's init compiles on its own: 87
  compilations): a function (hp, key) -> params, and a dict whose 'groups' holds the layer groups of its last
  trace (names, not arrays, so they are kept from the trace)."""
  traced = {}

  @jax.jit
  def init(hp, key):
    params, traced['groups'] = trainer.init_params(hp, key)
    return params

  return init, traced


def test_qk_learning_rate_multiplier_touches_only_w_q_and_w_k(transformer_config):
  c = transformer_config
  task = tasks.make_task(c.task)
  data = data_lib.select_seed(data_lib.build_data(task, 64, 64, [0]), 0)
  trainer = train.Run(spec_lib.derive(c))
  init_params, traced = _compiled_init(trainer)
  for frozen, moving in (('qk', 'rest'), ('rest', 'qk')):
    hp = spec_lib.run_hp(c, {f'lr_mult_{frozen}': 0.0})
    init = init_params(hp, jax.random.split(jax.random.key(hp['seed']), 4)[0])
    groups = traced['groups']
    final, _ = jax.jit(trainer.train)(hp, data)
    for (path, a), b, group in zip(jax.tree_util.tree_leaves_with_path(init), jax.tree_util.tree_leaves(final),
                                   jax.tree_util.tree_leaves(groups)):
      if group == frozen:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=str(path))
    moved = [not np.allclose(np.asarray(a), np.asarray(b)) for a, b, g in zip(
        jax.tree_util.tree_leaves(init), jax.tree_util.tree_leaves(final), jax.tree_util.tree_leaves(groups))
        if g == moving]
    assert all(moved)
  assert {'layer_0/attn/q', 'layer_0/attn/k'} == {
      '/'.join(str(k.key) for k in path[:-1]) for path, g in jax.tree_util.tree_leaves_with_path(groups) if g == 'qk'}


def test_qk_init_scale_multiplies_only_w_q_and_w_k(transformer_config):
  init, _ = _compiled_init(train.Run(spec_lib.derive(transformer_config)))  # the scale traced, as in a sweep
  base = init(spec_lib.run_hp(transformer_config), jax.random.key(5))
  scaled = init(spec_lib.run_hp(transformer_config, {'init_scale_qk': 8.0}), jax.random.key(5))
  attn, attn_scaled = base['layer_0']['attn'], scaled['layer_0']['attn']
  np.testing.assert_allclose(np.asarray(attn_scaled['q']['kernel']), 8 * np.asarray(attn['q']['kernel']), rtol=1e-6)
  np.testing.assert_allclose(np.asarray(attn_scaled['k']['bias']), 8 * np.asarray(attn['k']['bias']), rtol=1e-6)
  np.testing.assert_array_equal(np.asarray(attn_scaled['v']['kernel']), np.asarray(attn['v']['kernel']))


def test_online_groups_take_their_gradient_from_fresh_batches(transformer_config):
  """Fig 30: after one step from the same init, only the online group differs from a run
  whose every group learns from the small set."""
  c = transformer_config
  c.train.steps, c.train.eval_every = 1, 1
  task = tasks.make_task(c.task)
  data = data_lib.select_seed(data_lib.build_data(task, 64, 64, [0]), 0)
  hp = spec_lib.run_hp(c)
  plain, _ = jax.jit(train.Run(spec_lib.derive(c)).train)(hp, data)
  c.data.online_groups = ('qk',)
  mixed, _ = jax.jit(train.Run(spec_lib.derive(c)).train)(hp, data)
  attn_plain, attn_mixed = plain['layer_0']['attn'], mixed['layer_0']['attn']
  assert not np.allclose(np.asarray(attn_plain['q']['kernel']), np.asarray(attn_mixed['q']['kernel']))
  np.testing.assert_array_equal(np.asarray(attn_plain['v']['kernel']), np.asarray(attn_mixed['v']['kernel']))
  np.testing.assert_array_equal(np.asarray(plain['readout']['kernel']), np.asarray(mixed['readout']['kernel']))


@pytest.mark.optimized  # the bits users get: XLA's default level (conftest.py)
def test_a_transformer_run_in_a_vmapped_chunk_equals_the_run_alone(transformer_config, check_chunk_equals_runs_alone):
  c = transformer_config
  c.sweep.lr_mult_qk = (0.5, 2.0)
  c.sweep.seed = (0, 1)
  _, where = check_chunk_equals_runs_alone(c, chunk_size=4)
  assert len(where) == 4


def test_sequence_tasks_need_a_transformer(tiny_config):
  config_lib.set_task(tiny_config, name='modadd', p=7, base=2, test_size=16)
  tiny_config.loss = 'cross_entropy'
  with pytest.raises(config_lib.ConfigError, match='use model.kind="transformer"'):
    config_lib.validate(tiny_config)


@pytest.mark.parametrize('edit, key, match', [
    (lambda c: setattr(c.model, 'heads', 3), 'model.heads', 'must divide model.dim=8'),
    (lambda c: setattr(c.model, 'readout', 'cls'), 'model.readout', "unknown value 'cls'"),
    (lambda c: setattr(c.model, 'layers', 0), 'model.layers', 'must be an integer >= 1, got 0'),
    (lambda c: setattr(c.data, 'online_groups', ('attention',)), 'data.online_groups',
     "'attention' is not a layer group"),
    (lambda c: setattr(c, 'loss', 'cross_entropy'), 'loss', 'has sign labels, which need one of'),
])
def test_bad_transformer_configs_name_their_key(transformer_config, edit, key, match):
  edit(transformer_config)
  with pytest.raises(config_lib.ConfigError, match=match) as info:
    config_lib.validate(transformer_config)
  assert info.value.key == key


def test_class_labels_refuse_the_hinge_loss(transformer_config):
  config_lib.set_task(transformer_config, name='modadd', p=7, base=2, test_size=16)
  with pytest.raises(config_lib.ConfigError, match="task 'modadd' has class labels") as info:
    config_lib.validate(transformer_config)
  assert info.value.key == 'loss'
