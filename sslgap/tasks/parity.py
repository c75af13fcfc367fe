"""(n, k)-sparse parity, and its debiased pools (Fig 3a)."""

from typing import ClassVar

import jax
import jax.numpy as jnp
import numpy as np

from sslgap.errors import ConfigError
from sslgap.tasks import base


def hadamard_signs(n, k):
  """[G, n] sign patterns: each column sums to zero, columns are orthogonal, and the product of
  the first k columns sums to zero too (rows of a Sylvester Hadamard matrix, G = 2^m > n)."""
  m = max(1, n.bit_length())
  codes = list(range(1, n + 1))
  parity = 0
  for c in codes[:k]:
    parity ^= c
  if parity == 0:  # the support's product would be the all-ones column: use a spare code
    if n + 1 >= 2**m:
      m += 1
    codes[k - 1] = n + 1
  rows = np.arange(2**m)[:, None] & np.asarray(codes)[None, :]
  popcount = np.vectorize(lambda v: bin(v).count('1'))(rows)
  return np.where(popcount % 2 == 0, 1, -1).astype(np.int8)


@base.register
class SparseParity(base.Task):
  """(n, k)-sparse parity: x uniform on {-1, +1}^n, y = prod of x over a support of size k.

  The support is the first k coordinates. Every model here treats input coordinates
  exchangeably at initialisation, so a fixed support loses no generality and keeps
  the population enumerable.

  held_out > 0 sets that many of the 2^n inputs aside, chosen by the data seed: the test set is drawn
  from them and training never sees them, so a "population" of the other 2^n - held_out inputs is not
  trained on the test inputs (at small n the whole population would hold every test input).
  """

  n: int
  k: int
  held_out: int = 0
  name: ClassVar[str] = 'parity'
  label_kind: ClassVar[str] = 'sign'
  x_dtype: ClassVar = jnp.int8
  debias_kinds: ClassVar[tuple] = ('none', 'mean', 'second_order')

  @property
  def example_shape(self):
    return (self.n,)

  def check(self, task_config):
    if self.k > self.n:
      raise ConfigError('task.k', f'k={self.k} must not exceed n={self.n}')
    if not 0 <= self.held_out < 2**self.n:
      raise ConfigError('task.held_out', f'must be in [0, 2^n = {2**self.n}), got {self.held_out}')
    if self.held_out and task_config.test_size > self.held_out:
      raise ConfigError('task.test_size', f'the test set is drawn from the {self.held_out} held-out inputs: use at '
                        f'most that many, got {task_config.test_size}')

  def label(self, target, x):
    del target
    return jnp.prod(x[..., :self.k].astype(jnp.float32), axis=-1)

  def init_target(self, key):
    """With a held-out split: the order of the 2^n inputs; its last held_out are the test inputs."""
    return {'order': jax.random.permutation(key, 2**self.n).astype(jnp.uint32)} if self.held_out else {}

  def _inputs(self, target, index):
    index = target['order'][index] if self.held_out else index.astype(jnp.uint32)
    bits = (index[:, None] >> jnp.arange(self.n, dtype=jnp.uint32)) & 1
    x = (1 - 2 * bits.astype(jnp.int8)).astype(jnp.int8)
    return x, self.label(target, x)

  def sample(self, target, key, num):
    if self.held_out:  # fresh draws from the inputs training may see
      return self._inputs(target, jax.random.randint(key, (num,), 0, self.population_size))
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
    return 2**self.n - self.held_out

  def population(self, target, key):
    """All 2^n inputs (but the held-out ones), in a random order, so any prefix is a uniform subset
    without repeats."""
    return self._inputs(target, jax.random.permutation(key, self.population_size))

  def test_set(self, target, key, num):
    """Held out: the first `num` of the held-out inputs; else `num` fresh draws."""
    if self.held_out:
      return self._inputs(target, self.population_size + jnp.arange(num))
    return self.sample(target, key, num)

  def token_encoding(self):
    return 'ids', 2

  def debias_group_size(self, kind):
    if kind == 'mean':
      return 2
    if kind == 'second_order':
      return hadamard_signs(self.n, self.k).shape[0]
    return 1

  def debias(self, target, kind, x):
    """'mean': antipodal pairs (x, -x), so every even prefix has column means exactly 0.
    'second_order': each base input times the rows of hadamard_signs, so every prefix of a
    multiple of G inputs has zero column means, zero pairwise products and zero label mean."""
    del target
    if kind == 'mean':
      half = x[:(x.shape[0] + 1) // 2]
      return jnp.stack([half, -half], axis=1).reshape((-1,) + x.shape[1:])[:x.shape[0]]
    signs = jnp.asarray(hadamard_signs(self.n, self.k))
    groups = -(-x.shape[0] // signs.shape[0])
    return (x[:groups, None, :] * signs[None]).reshape(-1, x.shape[1])[:x.shape[0]]
