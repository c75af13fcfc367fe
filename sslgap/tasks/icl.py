"""In-context linear regression, for Transformers that read the query's token."""

import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from sslgap.tasks import base


@base.register
class InContextRegression(base.Task):
  """In-context linear regression: per sequence w ~ N(0, I_d); tokens [x_1, 0], [0, y_1], ...,
  [x_L, 0], [0, y_L], [x_q, 0] with y_i = <w, x_i>; the label is y_q = <w, x_q>, predicted at the
  last token. Labels are divided by sqrt(d) so that they have unit variance."""

  d: int
  context: int
  name: ClassVar[str] = 'icl'
  label_kind: ClassVar[str] = 'real'
  sequence: ClassVar[bool] = True

  @property
  def example_shape(self):
    return (2 * self.context + 1, self.d + 1)

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
