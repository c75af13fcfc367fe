"""Per-example losses of a scalar output f against a label y."""

import jax.numpy as jnp


def hinge(f, y):
  return jnp.maximum(0.0, 1.0 - y * f)


def square(f, y):
  return jnp.square(f - y)


def logistic(f, y):
  return jnp.logaddexp(0.0, -y * f)


LOSSES = {'hinge': hinge, 'square': square, 'logistic': logistic}
# Losses that need +-1 labels; square works for every task.
SIGN_LABEL_LOSSES = ('hinge', 'logistic')
