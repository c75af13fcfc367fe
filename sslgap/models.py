"""MLPs with PyTorch-default initialisation and per-layer-group init scales.

Parameters are plain pytrees with readable layer names (`hidden_0`, `hidden_1`, ...,
`readout`). Layer groups (the heatmap's "first" and "rest") are assigned by a rule that
maps layer names to group names, so multipliers are data, not code.
"""

import re
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

ACTIVATIONS = {
    'relu': nn.relu,
    'gelu': nn.gelu,
    'sigmoid': nn.sigmoid,
}

INIT_SCHEMES = ('uniform', 'gaussian')


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


class MLP(nn.Module):
  """ReLU (or GELU, sigmoid) MLP, no residuals, no normalisation, scalar output."""

  hidden_layers: int
  width: int
  activation: str = 'relu'
  init_scheme: str = 'uniform'

  @nn.compact
  def __call__(self, x_BxD):
    act: Callable = ACTIVATIONS[self.activation]
    h = x_BxD.astype(jnp.float32)
    for i in range(self.hidden_layers):
      h = act(TorchDense(self.width, self.init_scheme, name=f'hidden_{i}')(h))
    return TorchDense(1, self.init_scheme, name='readout')(h)[..., 0]


def make_model(model_config):
  return MLP(
      hidden_layers=model_config.hidden_layers,
      width=model_config.width,
      activation=model_config.activation,
      init_scheme=model_config.init,
  )


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


def layer_norms(params):
  """Frobenius norm of each layer's weight matrix, keyed by layer name."""
  return {name: jnp.linalg.norm(layer['kernel']) for name, layer in params.items()}
