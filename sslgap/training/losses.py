"""Per-example losses of a scalar output f against a label y."""

import jax
import jax.numpy as jnp


def hinge(f, y):
  return jnp.maximum(0.0, 1.0 - y * f)


def square(f, y):
  return jnp.square(f - y)


def logistic(f, y):
  return jnp.logaddexp(0.0, -y * f)


def cross_entropy(logits, y):
  """Logits [..., classes] against integer classes."""
  return -jnp.take_along_axis(jax.nn.log_softmax(logits), y[..., None].astype(jnp.int32), axis=-1)[..., 0]


LOSSES = {'hinge': hinge, 'square': square, 'logistic': logistic, 'cross_entropy': cross_entropy}
# The losses that suit each kind of label.
LOSSES_FOR_LABELS = {
    'sign': ('hinge', 'square', 'logistic'),
    'real': ('square',),
    'class': ('cross_entropy',),
}
