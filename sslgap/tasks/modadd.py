"""Modular addition with digit tokens, for causal Transformers."""

from typing import ClassVar

import jax
import jax.numpy as jnp

from sslgap.errors import ConfigError
from sslgap.tasks import base


@base.register
class ModularAddition(base.Task):
  """(a + b) mod p with a and b written as base-`base` digits: the tokens are a's digits, '+',
  b's digits, '=' (most significant digit first); the label is one of p classes.

  held_out > 0 sets that many pairs of the p^2 table aside, chosen by the data seed: the test set
  is drawn from them and nothing else ever is, so memorising the training pairs and learning the
  rule are told apart. The population is then the other p^2 - held_out pairs (and "online" batches
  are fresh draws from them)."""

  p: int
  base: int
  held_out: int = 0
  name: ClassVar[str] = 'modadd'
  label_kind: ClassVar[str] = 'class'
  x_dtype: ClassVar = jnp.int32
  y_dtype: ClassVar = jnp.int32
  sequence: ClassVar[bool] = True

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
    return self.p * self.p - self.held_out

  def check(self, task_config):
    if self.base < 2:
      raise ConfigError('task.base', f'digits need a base of at least 2, got {self.base}')
    if not 0 <= self.held_out < self.p * self.p:
      raise ConfigError('task.held_out', f'must be in [0, p^2 = {self.p * self.p}), got {self.held_out}')
    if self.held_out and task_config.test_size > self.held_out:
      raise ConfigError('task.test_size', f'the test set is drawn from the {self.held_out} held-out pairs: use at '
                        f'most that many, got {task_config.test_size}')

  def token_encoding(self):
    return 'ids', self.vocab_size

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

  def label(self, target, x):
    del target
    a, b = self.decode(x)
    return ((a + b) % self.p).astype(self.y_dtype)

  def init_target(self, key):
    """With a held-out split: the order of the p^2 pairs; its last held_out are the test pairs."""
    return {'order': jax.random.permutation(key, self.p * self.p)} if self.held_out else {}

  def _pairs(self, target, index):
    pair = target['order'][index] if self.held_out else index
    x = self.encode(pair // self.p, pair % self.p)
    return x, self.label(target, x)

  def sample(self, target, key, num):
    if self.held_out:
      return self._pairs(target, jax.random.randint(key, (num,), 0, self.population_size))
    ab = jax.random.randint(key, (2, num), 0, self.p)
    x = self.encode(ab[0], ab[1])
    return x, self.label(target, x)

  def population(self, target, key):
    index = jax.random.permutation(key, self.population_size)
    if self.held_out:
      return self._pairs(target, index)
    x = self.encode(index // self.p, index % self.p)
    return x, self.label(target, x)

  def test_set(self, target, key, num):
    """Held out: the first `num` of the held-out pairs; else `num` fresh draws from the table."""
    if self.held_out:
      return self._pairs(target, self.population_size + jnp.arange(num))
    return self.sample(target, key, num)

  def random_labels(self, target, key, x):
    """Uniform classes, one per example (a random relabelling of the set)."""
    del target
    return jax.random.randint(key, x.shape[:1], 0, self.p).astype(self.y_dtype)
