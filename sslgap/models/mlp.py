"""MLPs with PyTorch-default initialisation (the paper's model), standard or muP."""

from typing import Callable, ClassVar

import flax.linen as nn
import jax.numpy as jnp

from sslgap.models import parameterization
from sslgap.errors import ConfigError, check_choice_field, check_positive_ints
from sslgap.models import base
from sslgap.tasks import input_dim

ACTIVATIONS = {
    'relu': nn.relu,
    'gelu': nn.gelu,
    'sigmoid': nn.sigmoid,
}


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
      h = act(base.TorchDense(self.width, self.init_scheme, name=f'hidden_{i}')(h))
    return base.TorchDense(1, self.init_scheme, name='readout')(h)[..., 0]


def layer_norms(params):
  """Frobenius norm of each layer's weight matrix, keyed by layer name."""
  return {name: jnp.linalg.norm(layer['kernel']) for name, layer in params.items()}


@base.register
class MLPModel(base.Model):
  """config.model.kind = 'mlp'; its layers are hidden_0, ..., readout (metrics norm_<layer>)."""

  kind: ClassVar[str] = 'mlp'
  fields: ClassVar[dict] = dict(hidden_layers=1, width=64, activation='relu', init='uniform',
                                parameterization='standard', layer_groups=(('hidden_0', 'first'), ('.*', 'rest')))

  def build(self):
    m = self.config
    return MLP(hidden_layers=m.hidden_layers, width=m.width, activation=m.activation, init_scheme=m.init)

  def check(self, config):
    where = 'model'
    if self.task.sequence:
      raise ConfigError(f'{where}.kind', f'task {self.task.name!r} is a sequence task: use model.kind="transformer"')
    check_positive_ints(self.config, ('hidden_layers', 'width'), where)
    check_choice_field(self.config, 'activation', ACTIVATIONS, where)
    check_choice_field(self.config, 'init', base.INIT_SCHEMES, where)
    check_choice_field(self.config, 'parameterization', parameterization.PARAMETERIZATIONS, where)

  def norm_names(self):
    return [f'hidden_{i}' for i in range(self.config.hidden_layers)] + ['readout']

  def norms(self, params, groups):
    del groups
    return layer_norms(params)

  def multipliers(self, params):
    return parameterization.multipliers(self.config.parameterization, params)

  def activation_floats(self, rows, eval_rows):
    widths = self.config.hidden_layers * self.config.width + 1
    return rows * (input_dim(self.task) + 4 * widths), eval_rows * (widths + self.config.width)
