"""What a model is to the engine, the registry that finds one by config.model.kind, and what
every model shares: PyTorch's default initialisation and layer groups.

A model plug-in is a class with a `kind`, the `fields` its config.model takes (with defaults),
and methods that the engine calls with the model's config and the task:

  build()               a Flax module used as apply({'params': p}, x) -> outputs
  check(config)         its own rules for the (whole) config, raising ConfigError naming the key
  norm_names()          the metrics it records as norm_<name>, and norms(params, groups) their values
  multipliers(params)   fixed (init, lr) multiplier trees of a parameterisation (muP), ones by default
  activation_floats(rows, eval_rows)   floats a step and an evaluation hold, for chunk sizing
  make_run(spec)        a whole run of its own instead of the standard trainer (the theory model)

Parameters are plain pytrees with readable names; layer groups (config.model.layer_groups,
regex -> group) give each parameter its group's init scale and lr multiplier (traced). Register
a model with @register; one of your own lives in any file named in `config.plugins`. Registering
checks the protocol (a missing method is named then) and refuses a kind already taken, a
built-in's included, unless @register(override=True).
"""

import dataclasses
import math
import re
from typing import Callable, ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from sslgap.base import registry

INIT_SCHEMES = ('uniform', 'gaussian')


def protocol_gaps(cls):
  """What a model class lacks of the protocol (empty if nothing): checked when it registers."""
  if not issubclass(cls, Model):
    return ['must subclass sslgap.models.Model']
  if cls.make_run is not None:  # it trains itself: the trainer's parts are not needed
    return [] if registry.defines(cls, 'bytes_per_run', Model) else [
        'trains itself (make_run), so it must define bytes_per_run(spec) for chunk sizing']
  gaps = [f'must define {m}' for m in ('build',) if not registry.defines(cls, m, Model)]
  if not (registry.defines(cls, 'activation_floats', Model) or registry.defines(cls, 'bytes_per_run', Model)):
    gaps.append('must define activation_floats(rows, eval_rows) (or bytes_per_run(spec)), which size chunks')
  if registry.defines(cls, 'norm_names', Model) != registry.defines(cls, 'norms', Model):
    gaps.append('must define norm_names and norms together (the metrics norm_<name> and their values)')
  if 'layer_groups' not in getattr(cls, 'fields', {}):
    gaps.append("must have 'layer_groups' in fields ((layer regex, group) rules; ('.*', 'rest') for one group)")
  return gaps


MODELS = registry.Registry('model', 'kind', protocol_gaps)


def register(cls=None, *, override=False):
  """Class decorator: makes a model available as config.model.kind = cls.kind. A kind already taken is
  refused unless override=True."""
  return MODELS.register(cls, override=override)


@dataclasses.dataclass(frozen=True)
class Model:
  """A model plug-in bound to its config.model section and its task."""

  config: object  # config.model (frozen)
  task: object

  kind: ClassVar[str]
  fields: ClassVar[dict] = {}  # config.model keys besides `kind`, with their defaults
  hparams: ClassVar[tuple] = None  # the traced hyper-parameters its run reads; None: the trainer's

  def build(self):
    raise NotImplementedError

  def check(self, config):
    del config

  def norm_names(self):
    return []

  def norms(self, params, groups):
    """{name: Frobenius norm} for each name of norm_names(); groups: the tree of group names."""
    del params, groups
    return {}

  def multipliers(self, params):
    ones = jax.tree_util.tree_map(lambda _: 1.0, params)
    return ones, ones

  def activation_floats(self, rows, eval_rows):
    """(floats of one training step on `rows` examples, of one evaluation slice of `eval_rows`)."""
    raise NotImplementedError

  make_run: ClassVar[Callable] = None  # (spec) -> run(hp, data), for a model that trains itself

  def param_count(self):
    """Parameters of one run, from the shapes init gives. Traced once per model: the engine asks again for
    every chunk it sizes (segment lengths, FLOPs), and a trace of init takes about 14 ms, which a design's
    test of 142 chunks spent 602 times (8 of its 26 s)."""
    if '_param_count' not in self.__dict__:
      shapes = jax.eval_shape(self.build().init, jax.random.key(0),
                              jax.ShapeDtypeStruct((1,) + self.task.example_shape, self.task.x_dtype))
      object.__setattr__(self, '_param_count', sum(math.prod(s.shape) for s in jax.tree_util.tree_leaves(shapes)))
    return self.__dict__['_param_count']


def make(model_config, task):
  return MODELS[model_config.kind](model_config, task)


# --- what the built-in models share ----------------------------------------------------------

def torch_default_init(scheme, fan_in):
  """PyTorch's nn.Linear init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases.

  'gaussian' draws N(0, 1/(3 fan_in)), the same variance.
  """
  bound = fan_in**-0.5

  def init(key, shape, dtype=jnp.float32):
    if scheme == 'uniform':
      return jax.random.uniform(key, shape, dtype, -bound, bound)
    return jax.random.normal(key, shape, dtype) * (bound / jnp.sqrt(3.0))

  return init


class TorchDense(nn.Module):
  features: int
  init_scheme: str = 'uniform'

  @nn.compact
  def __call__(self, x_BxI):
    fan_in = x_BxI.shape[-1]
    init = torch_default_init(self.init_scheme, fan_in)
    w_IxO = self.param('kernel', init, (fan_in, self.features))
    b_O = self.param('bias', init, (self.features,))
    return x_BxI @ w_IxO + b_O


def layer_name(path):
  return '/'.join(str(getattr(k, 'key', k)) for k in path[:-1])


def layer_groups(params, rules):
  """Maps every parameter to the group of the first (regex, group) rule its layer matches."""

  def group_of(path, _):
    name = layer_name(path)
    for pattern, group in rules:
      if re.fullmatch(pattern, name):
        return group
    raise ValueError(f'config.model.layer_groups: no rule matches layer {name!r}')

  return jax.tree_util.tree_map_with_path(group_of, params)


def group_multipliers(groups, values):
  """A tree like `groups` holding values[group]; values may be traced scalars."""
  return jax.tree_util.tree_map(lambda g: values[g], groups)


def group_norms(params, groups):
  """Frobenius norm of every weight (kernels and embeddings, not biases or norm scales) per group."""
  totals = {}
  for (path, leaf), group in zip(jax.tree_util.tree_leaves_with_path(params), jax.tree_util.tree_leaves(groups)):
    if str(getattr(path[-1], 'key', path[-1])) in ('kernel', 'embedding'):
      totals[group] = totals.get(group, 0.0) + jnp.sum(jnp.square(leaf))
  return {g: jnp.sqrt(v) for g, v in totals.items()}
