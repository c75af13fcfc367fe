"""Optimisers from optax, with traced hyper-parameters and per-layer learning-rate multipliers.

The optimiser is built inside the traced run from traced scalars, so one compiled code
path serves every learning rate, beta2 and layer multiplier in a sweep.
"""

import jax
import optax

OPTIMIZERS = ('sgd', 'momentum', 'adamw')  # which hp each reads is declared in sslgap.hparams


def scale_by_tree(multipliers):
  """Multiplies each update leaf by the matching leaf of `multipliers` (traced scalars)."""

  def update(updates, state, params=None):
    del params
    return jax.tree_util.tree_map(lambda u, m: u * m, updates, multipliers), state

  return optax.GradientTransformation(lambda _: optax.EmptyState(), update)


def make_optimizer(kind, eps, hp, lr_multipliers):
  if kind == 'sgd':
    base = optax.sgd(hp['lr'])
  elif kind == 'momentum':
    base = optax.sgd(hp['lr'], momentum=hp['momentum'])
  elif kind == 'adamw':
    base = optax.adamw(hp['lr'], b1=hp['b1'], b2=hp['b2'], eps=eps, weight_decay=hp['weight_decay'])
  else:
    raise ValueError(f'config.optim.kind: unknown optimiser {kind!r}; known: {OPTIMIZERS}')
  return optax.chain(base, scale_by_tree(lr_multipliers))
