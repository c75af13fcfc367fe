import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sslgap import data as data_lib
from sslgap import sweep
from sslgap import tasks
from sslgap import train
from sslgap import spec as spec_lib


def _data(config, seed=0):
  task = tasks.make_task(config.task)
  pool = spec_lib.derive(config).pool_size
  return data_lib.select_seed(data_lib.build_data(task, pool, config.task.test_size, [seed]), 0), pool


@pytest.mark.optimized  # the bits users get: XLA's default level (conftest.py)
def test_a_run_in_a_vmapped_chunk_equals_the_same_run_alone(tiny_config, check_chunk_equals_runs_alone):
  c = tiny_config
  c.model.hidden_layers = 2
  c.sweep.lr = (0.05, 0.2)
  c.sweep.init_scale_first = (0.5, 2.0)
  c.sweep.dataset_size = (32, 'online')
  c.sweep.seed = (3, 4)
  plan, where = check_chunk_equals_runs_alone(c)
  assert plan.num_chunks == 1 and len(where) == 16


def test_changing_traced_values_does_not_recompile(tiny_config):
  c = tiny_config
  c.sweep.dataset_size = (16, 64, 'online')
  data, pool = _data(c)
  traces = []
  run = train.make_run(spec_lib.derive(c))

  def counted(hp, data):
    traces.append(1)
    return run(hp, data)

  kernel = jax.jit(jax.vmap(counted, in_axes=(0, None)))
  base = spec_lib.run_hp(c)
  variants = [
      {},
      {'lr': 0.3},
      {'init_scale_first': 0.1, 'init_scale_rest': 4.0, 'lr_mult_first': 3.0},
      {'seed': 99},
      {'dataset_size': 16},
      {'dataset_size': 'online'},
  ]
  outputs = []
  for overrides in variants:
    hp = spec_lib.run_hp(c, overrides)
    batch = jax.tree_util.tree_map(lambda a, b: np.stack([a, b]), hp, base)
    outputs.append(kernel(batch, data)['test_loss'][0, -1])
  assert len(traces) == 1 and kernel._cache_size() == 1
  assert len(set(np.asarray(outputs).tolist())) == len(variants)  # every change had an effect


def test_engine_compiles_once_per_static_value(tiny_config):
  c = tiny_config
  c.sweep.dataset_size = (16, 32, 64)
  c.sweep.seed = (0, 1)
  executor = sweep.Executor(sweep.make_plan(c))
  for chunk in range(executor.plan.num_chunks):
    executor.run_chunk(chunk)
  assert executor.compile_count == 1

  c.data.mode = 'full_batch'
  plan = sweep.make_plan(c)
  assert [plan.axes[i][0] for i in plan.traced] == ['seed']
  executor = sweep.Executor(plan)
  for chunk in range(plan.num_chunks):
    executor.run_chunk(chunk)
  assert executor.compile_count == 3


@pytest.mark.parametrize('microbatch', [48, 20])
def test_full_batch_gd_equals_sgd_with_batch_n_without_replacement(tiny_config, microbatch):
  c = tiny_config
  c.train.steps, c.train.eval_every = 3, 1
  c.hp.dataset_size = 48
  c.data.mode = 'full_batch'
  c.data.full_batch_microbatch = microbatch  # 48: all at once; 20: 3 padded slices
  data, pool = _data(c)
  gd_params, gd_metrics = jax.jit(train.Run(spec_lib.derive(c)).train)(spec_lib.run_hp(c), data)

  c.data.mode, c.data.sampling, c.train.batch_size = 'minibatch', 'without_replacement', 48
  sgd_params, sgd_metrics = jax.jit(train.Run(spec_lib.derive(c)).train)(spec_lib.run_hp(c), data)
  chex.assert_trees_all_close(gd_params, sgd_params, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(gd_metrics['test_loss'], sgd_metrics['test_loss'], rtol=1e-5)
  # The run really moved: otherwise equality would be trivial.
  assert abs(float(gd_metrics['test_loss'][-1] - gd_metrics['test_loss'][0])) > 1e-4


@pytest.mark.parametrize('sampling', ['with_replacement', 'without_replacement'])
def test_multi_phase_samples_only_from_the_current_prefix(sampling):
  sizes, ends = jnp.array([16, 64, 0], jnp.int32), jnp.array([12, 36, 50], jnp.int32)
  batch = 4

  @jax.jit
  def sample(step):
    phase, start = data_lib.phase_at(ends, step)
    index = data_lib.batch_indices(phase, start, sizes[phase], step, batch, sampling,
                                   jax.random.fold_in(jax.random.key(0), step), jax.random.key(1))
    return index, phase

  seen = {0: [], 1: []}
  for step in range(50):
    index, phase = sample(step)
    index, phase = np.asarray(index), int(phase)
    assert phase == (0 if step < 12 else 1 if step < 36 else 2)
    if phase < 2:
      assert index.min() >= 0 and index.max() < [16, 64][phase]
      seen[phase].append(index)
  # Each prefix is used in full, not a smaller part of it.
  assert np.concatenate(seen[0]).max() >= 12 and np.concatenate(seen[1]).max() >= 48
  if sampling == 'without_replacement':
    # Epochs of 16 / 4 = 4 steps and 64 / 4 = 16 steps visit every example exactly once.
    for e in range(3):
      np.testing.assert_array_equal(np.sort(np.concatenate(seen[0][4 * e:4 * e + 4])), np.arange(16))
    np.testing.assert_array_equal(np.sort(np.concatenate(seen[1][:16])), np.arange(64))
    assert not np.array_equal(np.concatenate(seen[0][:4]), np.concatenate(seen[0][4:8]))


def test_permuted_index_is_a_permutation_for_any_size():
  # the size is traced, as in a run: one compilation for every size (positions past it are not read)
  permuted = jax.jit(lambda key, size: data_lib.permuted_index(key, np.arange(4097), size))
  for size in (1, 2, 3, 17, 64, 1000, 4097):
    index = np.asarray(permuted(jax.random.key(size), np.int32(size)))[:size]
    np.testing.assert_array_equal(np.sort(index), np.arange(size))


def test_multi_phase_schedule_runs_in_the_engine(tiny_config):
  c = tiny_config
  c.train.steps, c.train.eval_every = 40, 10
  c.hp.phase_sizes = (16, 64, 'online')
  c.hp.phase_lengths = (10, 20)
  c.sweep.phase_lengths = ((10, 20), (0, 0))
  plan, metrics = sweep.run_sweep(c)
  assert metrics['train_loss'].shape == (2, 5)
  assert np.all(np.isfinite(metrics['train_loss']))
  # With zero-length first phases the run is online from the start: a different trajectory.
  assert not np.allclose(metrics['test_loss'][0], metrics['test_loss'][1])


def test_epoch_phase_lengths_convert_to_steps(tiny_config):
  c = tiny_config
  c.hp.phase_sizes, c.hp.phase_lengths = (32, 'online'), (2,)
  c.data.phase_unit = 'epochs'
  _, parts = train.Run(spec_lib.derive(c)).start(spec_lib.run_hp(c), _data(c)[0])
  np.testing.assert_array_equal(parts.schedule.phase_ends(), [2 * 32 // 16, c.train.steps])


def test_layer_learning_rate_multiplier_touches_only_its_group(tiny_config):
  c = tiny_config
  c.model.hidden_layers = 2
  data, pool = _data(c)
  trainer = train.Run(spec_lib.derive(c))
  hp = spec_lib.run_hp(c, {'lr_mult_first': 0.0})
  init, _ = trainer.init_params(hp, jax.random.split(jax.random.key(hp['seed']), 4)[0])
  final, _ = jax.jit(trainer.train)(hp, data)
  np.testing.assert_array_equal(np.asarray(final['hidden_0']['kernel']), np.asarray(init['hidden_0']['kernel']))
  assert not np.allclose(np.asarray(final['hidden_1']['kernel']), np.asarray(init['hidden_1']['kernel']))


def test_a_diverged_run_is_nan_and_the_sweep_goes_on(tiny_config):
  c = tiny_config
  c.loss = 'square'
  c.sweep.lr = (0.05, 1e4)
  plan, metrics = sweep.run_sweep(c)
  assert np.all(np.isfinite(metrics['test_loss'][0]))
  assert np.isnan(metrics['test_loss'][1, -1]) and np.isnan(metrics['test_acc'][1, -1])
  assert np.isfinite(metrics['test_loss'][1, 0])  # finite until it diverged


def test_small_dataset_beats_population_and_rescaling_closes_the_gap():
  """The paper's Fig 6 in miniature: (16,4)-parity, 2 hidden layers of 64, SGD, 8 fixed seeds."""
  from sslgap import config as config_lib
  c = config_lib.base_config()
  c.task.n, c.task.k = 16, 4
  c.model.hidden_layers = 2
  c.train.steps, c.train.eval_every = 480, 240
  c.hp.lr = 0.1
  c.sweep.init_scale_first = (0.25, 1.0)
  c.sweep.init_scale_rest = (1.0, 4.0)
  c.sweep.dataset_size = (1024, 2**16)
  c.sweep.seed = tuple(range(8))
  _, metrics = sweep.run_sweep(c)
  acc = metrics['test_acc'][..., -1].mean(axis=-1)  # [first, rest, dataset]
  default_gap = acc[1, 0, 0] - acc[1, 0, 1]
  rescaled_gap = acc[0, 1, 0] - acc[0, 1, 1]
  assert default_gap > 0.15, acc  # measured 0.25
  assert abs(rescaled_gap) < 0.05, acc  # measured 0.0: both reach 100%
  assert acc[0, 1, 1] > acc[1, 0, 1] + 0.2  # the population run gains most from rescaling


def test_single_index_model_trains_online_and_on_a_subset(tiny_config):
  from sslgap import config as config_lib
  c = config_lib.set_task(tiny_config, name='sim', d=6, degree=2, test_size=512)
  c.loss = 'square'
  c.train.steps, c.train.eval_every = 200, 100
  c.hp.lr = 0.05
  c.sweep.dataset_size = (128, 'online')
  plan, metrics = sweep.run_sweep(c)
  loss = metrics['test_loss']
  assert 'test_acc' not in metrics
  assert np.all(np.isfinite(loss))
  assert np.all(loss[:, -1] < loss[:, 0])  # learning happened
  # A 128-sample subset is fitted much better than it generalises; online is not.
  assert metrics['train_loss'][0, -1] < metrics['test_loss'][0, -1]


@pytest.mark.parametrize('kind,overrides', [
    ('momentum', [{'momentum': 0.5}, {'momentum': 0.9}]),
    ('adamw', [{'b2': 0.99}, {'b2': 0.999, 'weight_decay': 0.1, 'b1': 0.8}]),
])
def test_optimiser_hyperparameters_are_traced(tiny_config, kind, overrides):
  c = tiny_config
  c.optim.kind = kind
  c.hp.lr = 0.01
  data, pool = _data(c)
  kernel = jax.jit(jax.vmap(train.make_run(spec_lib.derive(c)), in_axes=(0, None)))
  losses = []
  for o in overrides:
    hp = jax.tree_util.tree_map(lambda v: v[None], spec_lib.run_hp(c, o))
    losses.append(float(kernel(hp, data)['test_loss'][0, -1]))
  assert kernel._cache_size() == 1
  assert losses[0] != losses[1] and np.all(np.isfinite(losses))


def test_evaluation_in_slices_equals_evaluation_at_once(tiny_config):
  c = tiny_config
  data, pool = _data(c)
  hp = spec_lib.run_hp(c)
  whole = jax.jit(train.make_run(spec_lib.derive(c)))(hp, data)
  c.data.eval_batch_size = 100  # 256 test examples: slices of 100, 100 and a padded 56
  sliced = jax.jit(train.make_run(spec_lib.derive(c)))(hp, data)
  for name in whole:
    np.testing.assert_allclose(np.asarray(sliced[name]), np.asarray(whole[name]), rtol=1e-5, err_msg=name)
