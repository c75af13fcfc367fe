"""Optimisers from optax, with traced hyper-parameters and per-layer learning-rate multipliers.

An optimiser is one declaration: its name (config.optim.kind), the traced hyper-parameters it
reads (declared in sslgap.hparams, or by the optimiser itself: `declares`; only these are swept or
checked for it), the state slots it keeps per parameter (for chunk sizing), and how to build it from the
run's hp. It is built
inside the traced run from traced scalars, so one compiled code path serves every learning
rate, beta2 and layer multiplier in a sweep. A plug-in file adds one with `register(Optimizer(...))`.
"""

import dataclasses
from typing import Callable

import jax
import optax

from sslgap.base import hparams
from sslgap.base import registry
from sslgap.errors import PluginError


@dataclasses.dataclass(frozen=True)
class Optimizer:
  name: str
  hparams: tuple  # the traced hyper-parameters it reads (sslgap.hparams names)
  slots: int  # floats of state per parameter (momentum 1, Adam's two moments 2)
  build: Callable  # (hp, eps) -> optax.GradientTransformation
  declares: tuple = ()  # hparams.HParam of its own, declared here rather than in sslgap.hparams


DECLARED = (
    Optimizer('sgd', ('lr',), 0, lambda hp, eps: optax.sgd(hp['lr'])),
    Optimizer('momentum', ('lr', 'momentum'), 1, lambda hp, eps: optax.sgd(hp['lr'], momentum=hp['momentum'])),
    Optimizer('adamw', ('lr', 'b1', 'b2', 'weight_decay'), 2,
              lambda hp, eps: optax.adamw(hp['lr'], b1=hp['b1'], b2=hp['b2'], eps=eps, weight_decay=hp['weight_decay'])),
)
OPTIMIZERS = {o.name: o for o in DECLARED}


def register(optimizer, override=False):
  """Adds an Optimizer declaration (a user's, from a plug-in file; a name already taken only with
  override=True); returns it."""
  if optimizer.name in OPTIMIZERS and not registry.same_declaration(OPTIMIZERS[optimizer.name], optimizer, ('build',), ('hparams', 'slots', 'declares')) and not override:
    raise PluginError(f'optimiser {optimizer.name!r} is already declared; give yours another name, or register it '
                      'with override=True to replace that one')
  for own in optimizer.declares:  # used when this optimiser is (or another that reads it)
    hparams.register(dataclasses.replace(own, used=hparams.by_optimizer(own.name)))
  undeclared = [h for h in optimizer.hparams if h not in hparams.BY_NAME]
  if undeclared:
    raise PluginError(f'optimiser {optimizer.name!r} reads {", ".join(undeclared)}, not declared in sslgap.hparams '
                      '(a traced hyper-parameter is one HParam there)')
  OPTIMIZERS[optimizer.name] = optimizer
  return optimizer


def scale_by_tree(multipliers):
  """Multiplies each update leaf by the matching leaf of `multipliers` (traced scalars)."""

  def update(updates, state, params=None):
    del params
    return jax.tree_util.tree_map(lambda u, m: u * m, updates, multipliers), state

  return optax.GradientTransformation(lambda _: optax.EmptyState(), update)


def make_optimizer(kind, eps, hp, lr_multipliers):
  return optax.chain(OPTIMIZERS[kind].build(hp, eps), scale_by_tree(lr_multipliers))
