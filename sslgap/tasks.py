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
  y_dtype: ClassVar = jnp.float32

  @property
  def example_shape(self):
    return (self.n,)

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
  y_dtype: ClassVar = jnp.float32
  population_size: ClassVar[float] = math.inf

  @property
  def example_shape(self):
    return (self.d,)

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


@dataclasses.dataclass(frozen=True)
class ModularAddition:
  """(a + b) mod p with a and b written as base-`base` digits: the tokens are a's digits, '+',
  b's digits, '=' (most significant digit first); the label is one of p classes."""

  p: int
  base: int
  label_kind: ClassVar[str] = 'class'
  x_dtype: ClassVar = jnp.int32
  y_dtype: ClassVar = jnp.int32

  @property
  def digits(self):
    count, top = 1, self.base
    while top < self.p:
      count, top = count + 1, top * self.base
    return count

  @property
  def plus(self):
    return self.base

  @property
  def equals(self):
    return self.base + 1

  @property
  def vocab_size(self):
    return self.base + 2

  @property
  def num_classes(self):
    return self.p

  @property
  def example_shape(self):
    return (2 * self.digits + 2,)

  @property
  def population_size(self):
    return self.p * self.p

  def to_digits(self, value):
    powers = self.base ** jnp.arange(self.digits - 1, -1, -1)
    return (value[..., None] // powers) % self.base

  def from_digits(self, digits):
    powers = self.base ** jnp.arange(self.digits - 1, -1, -1)
    return jnp.sum(digits * powers, axis=-1)

  def encode(self, a, b):
    num = a.shape[0]
    return jnp.concatenate([self.to_digits(a), jnp.full((num, 1), self.plus), self.to_digits(b),
                            jnp.full((num, 1), self.equals)], axis=1).astype(self.x_dtype)

  def decode(self, x):
    """(a, b) of encoded examples."""
    d = self.digits
    return self.from_digits(x[:, :d]), self.from_digits(x[:, d + 1:2 * d + 1])

  def init_target(self, key):
    del key
    return {}

  def label(self, target, x):
    del target
    a, b = self.decode(x)
    return ((a + b) % self.p).astype(self.y_dtype)

  def sample(self, target, key, num):
    ab = jax.random.randint(key, (2, num), 0, self.p)
    x = self.encode(ab[0], ab[1])
    return x, self.label(target, x)

  def population(self, target, key):
    index = jax.random.permutation(key, self.p * self.p)
    x = self.encode(index // self.p, index % self.p)
    return x, self.label(target, x)

  def random_labels(self, target, key, x):
    """Uniform classes, one per example (a random relabelling of the set)."""
    del target
    return jax.random.randint(key, x.shape[:1], 0, self.p).astype(self.y_dtype)


@dataclasses.dataclass(frozen=True)
class InContextRegression:
  """In-context linear regression: per sequence w ~ N(0, I_d); tokens [x_1, 0], [0, y_1], ...,
  [x_L, 0], [0, y_L], [x_q, 0] with y_i = <w, x_i>; the label is y_q = <w, x_q>, predicted at the
  last token. Labels are divided by sqrt(d) so that they have unit variance."""

  d: int
  context: int
  label_kind: ClassVar[str] = 'real'
  x_dtype: ClassVar = jnp.float32
  y_dtype: ClassVar = jnp.float32
  population_size: ClassVar[float] = math.inf

  @property
  def example_shape(self):
    return (2 * self.context + 1, self.d + 1)

  def init_target(self, key):
    del key
    return {}

  def sample(self, target, key, num):
    del target
    key_w, key_x = jax.random.split(key)
    w = jax.random.normal(key_w, (num, self.d)) / math.sqrt(self.d)
    xs = jax.random.normal(key_x, (num, self.context + 1, self.d))
    ys = jnp.einsum('nld,nd->nl', xs, w)
    tokens = jnp.zeros((num, 2 * self.context + 1, self.d + 1), jnp.float32)
    tokens = tokens.at[:, 0::2, :self.d].set(xs)
    tokens = tokens.at[:, 1::2, self.d].set(ys[:, :-1])
    return tokens, ys[:, -1]

  def random_labels(self, target, key, x):
    """Labels with the statistics of y_q (N(0, |x_q|^2 / d)) and nothing to learn."""
    del target
    scale = jnp.linalg.norm(x[:, -1, :self.d], axis=-1) / math.sqrt(self.d)
    return jax.random.normal(key, x.shape[:1]) * scale


def make_task(task_config):
  """Builds the task named by `config.task.name` from its sizes (validated in sslgap.config)."""
  name = task_config.name
  if name == 'parity':
    return SparseParity(n=task_config.n, k=task_config.k)
  if name == 'sim':
    return SingleIndex(d=task_config.d, degree=task_config.degree)
  if name == 'modadd':
    return ModularAddition(p=task_config.p, base=task_config.base)
  if name == 'icl':
    return InContextRegression(d=task_config.d, context=task_config.context)
  raise ValueError(f'config.task.name: unknown task {name!r}; known: {sorted(TASK_FIELDS)}')


# The size fields each task takes; sslgap.config checks them before anything is built.
TASK_FIELDS = {
    'parity': ('n', 'k'),
    'sim': ('d', 'degree'),
    'modadd': ('p', 'base'),
    'icl': ('d', 'context'),
}


def input_dim(task):
  """Features of one example when it is flattened (an MLP's input width)."""
  return math.prod(task.example_shape)


def has_exact_population(task, size):
  """True when `size` is the whole finite population, so the pool can hold every input once."""
  return np.isfinite(task.population_size) and size == task.population_size
