"""Datasets as shared pools and per-step batch sampling.

One pool of examples is generated per data seed and shared by every run with that seed.
A dataset of size N is the pool's first N examples, so nested multi-phase subsets are
prefixes and a phase schedule is just a per-step bound on the sampled index. Online
batches (size 0 in a schedule) are drawn fresh inside the compiled step. Debiased pools are
transformations that each task defines (sslgap.tasks).
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp


# Largest population we enumerate so that subsets are drawn without repeats.
MAX_ENUMERATED_POPULATION = 2**24


class Data(NamedTuple):
  """Everything a run reads besides its hyper-parameters; leading axis = data seed."""

  target: dict
  pool_x: jax.Array  # [S, M, *example shape]
  pool_y: jax.Array  # [S, M]
  pool_y_random: jax.Array  # [S, M]: random labels, fixed per example
  test_x: jax.Array  # [S, T, *example shape]
  test_y: jax.Array  # [S, T]


def _data_for_seed(task, pool_size, test_size, debias_kind, seed):
  target_key, pool_key, test_key, label_key = jax.random.split(jax.random.key(seed), 4)
  target = task.init_target(target_key)
  population = task.population_size
  if pool_size == 0:
    pool_x = jnp.zeros((0,) + task.example_shape, task.x_dtype)
    pool_y = jnp.zeros((0,), task.y_dtype)
  elif population <= MAX_ENUMERATED_POPULATION:
    pool_x, pool_y = (a[:pool_size] for a in task.population(target, pool_key))
  else:
    pool_x, pool_y = task.sample(target, pool_key, pool_size)
  if debias_kind != 'none':  # a transformation of the pool that the task defines (Fig 3a)
    pool_x = task.debias(target, debias_kind, pool_x)
    pool_y = task.label(target, pool_x)
  test_x, test_y = (task.test_set if hasattr(task, 'test_set') else task.sample)(target, test_key, test_size)
  return Data(target, pool_x, pool_y, task.random_labels(target, label_key, pool_x), test_x, test_y)


def build_data(task, pool_size, test_size, data_seeds, debias_kind='none'):
  """Pools and test sets for each data seed, stacked on a leading axis."""
  make = jax.jit(jax.vmap(lambda s: _data_for_seed(task, pool_size, test_size, debias_kind, s)))
  return make(jnp.asarray(data_seeds, jnp.uint32))


def select_seed(data, index):
  return jax.tree_util.tree_map(lambda a: a[index], data)


def phase_at(ends, step):
  """(phase, its first step) of a fixed schedule whose phase i ends before step ends[i]."""
  phase = jnp.sum(step >= ends[:-1])
  return phase, jnp.where(phase == 0, 0, ends[jnp.maximum(phase - 1, 0)])


def _keyed_bijection(key, x, bits):
  """A pseudo-random bijection of [0, 2**bits) (odd multiplies and xorshifts, masked)."""
  mask = (jnp.uint32(1) << bits) - 1
  words = jax.random.bits(key, (6,), jnp.uint32)
  for r in range(3):
    x = (x * (words[2 * r] | 1) + words[2 * r + 1]) & mask
    x = x ^ (x >> ((bits + 1) // 2))
  return x


def permuted_index(key, j, size):
  """Position j of a keyed random permutation of [0, size), size traced.

  Cycle-walks a bijection of the next power of two, so every epoch visits each of the
  `size` examples exactly once without materialising a permutation.
  """
  size = size.astype(jnp.uint32)
  bits = jnp.ceil(jnp.log2(jnp.maximum(size, 2).astype(jnp.float32))).astype(jnp.uint32)
  bits = bits + ((jnp.uint32(1) << bits) < size)  # guard float rounding
  # j must lie in [0, size): the walk from P(j) then ends at the latest back at j.
  x = _keyed_bijection(key, j.astype(jnp.uint32) % size, bits)
  x = jax.lax.while_loop(lambda x: jnp.any(x >= size),
                         lambda x: jnp.where(x >= size, _keyed_bijection(key, x, bits), x), x)
  return x.astype(jnp.int32)


def batch_indices(phase, start, size, step, batch_size, sampling, step_key, epoch_key):
  """Pool indices of the batch at `step` of a phase that began at `start` and draws from `size`."""
  if sampling == 'with_replacement':
    return jax.random.randint(step_key, (batch_size,), 0, jnp.maximum(size, 1))
  # 'without_replacement': each epoch a fresh permutation of the phase's subset, remainder dropped
  steps_per_epoch = jnp.maximum(size // batch_size, 1)
  position = step - start
  epoch = position // steps_per_epoch
  key = jax.random.fold_in(jax.random.fold_in(epoch_key, phase), epoch)
  j = (position % steps_per_epoch) * batch_size + jnp.arange(batch_size)
  return permuted_index(key, j, jnp.maximum(size, 1))
