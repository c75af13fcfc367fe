"""Synthetic tasks as pure samplers.

A task is a frozen dataclass of its static sizes. It draws a hidden target from a key
(`init_target`), samples `(x, y)` pairs given that target (`sample`), and names the loss
and metrics that suit its labels. Everything here is traceable, so batches can be drawn
inside a compiled training step.
"""

import dataclasses
import math
from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True)
class SparseParity:
  """(n, k)-sparse parity: x uniform on {-1, +1}^n, y = prod of x over a support of size k.

  The support is the first k coordinates. Every model here treats input coordinates
  exchangeably at initialisation, so a fixed support loses no generality and keeps
  the population enumerable.
  """

  n: int
  k: int
  label_kind: ClassVar[str] = 'sign'
  x_dtype: ClassVar = jnp.int8

  def init_target(self, key):
    del key
    return {}

  def label(self, target, x):
    del target
    return jnp.prod(x[..., :self.k].astype(jnp.float32), axis=-1)

  def sample(self, target, key, num):
    x = jax.random.rademacher(key, (num, self.n), dtype=jnp.int8)
    return x, self.label(target, x)

  def sample_biased(self, target, key, num, p_plus):
    """Coordinates independently +1 with probability p_plus[i] (a Bernoulli product)."""
    x = jnp.where(jax.random.uniform(key, (num, self.n)) < p_plus, 1, -1).astype(jnp.int8)
    return x, self.label(target, x)

  def random_labels(self, target, key, x):
    """Labels that ignore x: uniform +-1, one per example."""
    del target
    return jax.random.rademacher(key, x.shape[:1], dtype=jnp.float32)

  @property
  def population_size(self):
    return 2**self.n

  def population(self, target, key):
    """All 2^n inputs, in a random order, so any prefix is a uniform subset without repeats."""
    index = jax.random.permutation(key, self.population_size).astype(jnp.uint32)
    bits = (index[:, None] >> jnp.arange(self.n, dtype=jnp.uint32)) & 1
    x = (1 - 2 * bits.astype(jnp.int8)).astype(jnp.int8)
    return x, self.label(target, x)


def hermite_normalized(degree, z):
  """Probabilists' Hermite polynomial He_degree(z) / sqrt(degree!), unit variance under N(0, 1)."""
  he_prev, he = jnp.ones_like(z), z
  if degree == 0:
    return he_prev
  for m in range(1, degree):
    he_prev, he = he, z * he - m * he_prev
  return he / math.sqrt(math.factorial(degree))


@dataclasses.dataclass(frozen=True)
class SingleIndex:
  """Single-index model: x ~ N(0, I_d), y = He_degree(<w*, x>) / sqrt(degree!), ||w*|| = 1."""

  d: int
  degree: int
  label_kind: ClassVar[str] = 'real'
  x_dtype: ClassVar = jnp.float32
  population_size: ClassVar[float] = math.inf

  def init_target(self, key):
    """w* and, for random labels, an independent unit direction w'."""
    w = jax.random.normal(key, (2, self.d))
    w = w / jnp.linalg.norm(w, axis=1, keepdims=True)
    return {'w': w[0], 'w_random': w[1]}

  def label(self, target, x):
    return hermite_normalized(self.degree, x @ target['w'])

  def random_labels(self, target, key, x):
    """Labels of the same link from an unrelated direction w': the same statistics, no signal."""
    del key
    return hermite_normalized(self.degree, x @ target['w_random'])

  def sample(self, target, key, num):
    x = jax.random.normal(key, (num, self.d))
    return x, self.label(target, x)


def make_task(task_config):
  """Builds the task named by `config.task.name` from its sizes (validated in sslgap.config)."""
  name = task_config.name
  if name == 'parity':
    return SparseParity(n=task_config.n, k=task_config.k)
  if name == 'sim':
    return SingleIndex(d=task_config.d, degree=task_config.degree)
  raise ValueError(f'config.task.name: unknown task {name!r}; known: {sorted(TASK_FIELDS)}')


# The size fields each task takes; sslgap.config checks them before anything is built.
TASK_FIELDS = {
    'parity': ('n', 'k'),
    'sim': ('d', 'degree'),
}


def input_dim(task):
  return task.n if isinstance(task, SparseParity) else task.d


def has_exact_population(task, size):
  """True when `size` is the whole finite population, so the pool can hold every input once."""
  return np.isfinite(task.population_size) and size == task.population_size
