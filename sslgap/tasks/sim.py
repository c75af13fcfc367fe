"""Single-index models, and their whitened pools (Fig 3a)."""

import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from sslgap.tasks import base


def hermite_normalized(degree, z):
  """Probabilists' Hermite polynomial He_degree(z) / sqrt(degree!), unit variance under N(0, 1)."""
  he_prev, he = jnp.ones_like(z), z
  if degree == 0:
    return he_prev
  for m in range(1, degree):
    he_prev, he = he, z * he - m * he_prev
  return he / math.sqrt(math.factorial(degree))


@base.register
class SingleIndex(base.Task):
  """Single-index model: x ~ N(0, I_d), y = He_degree(<w*, x>) / sqrt(degree!), ||w*|| = 1."""

  d: int
  degree: int
  name: ClassVar[str] = 'sim'
  label_kind: ClassVar[str] = 'real'
  debias_kinds: ClassVar[tuple] = ('none', 'mean', 'whiten')

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

  def token_encoding(self):
    return 'features', 1  # each coordinate a token that scales a learned vector

  def debias(self, target, kind, x):
    """'mean': centred; 'whiten': empirical mean 0 and covariance I (exact for the whole pool)."""
    del target
    x = x - jnp.mean(x, axis=0)
    if kind == 'whiten':
      values, vectors = jnp.linalg.eigh(x.T @ x / x.shape[0])
      x = x @ (vectors * values**-0.5) @ vectors.T
    return x
