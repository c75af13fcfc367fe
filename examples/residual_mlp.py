"""A model the paper does not have, as a plug-in: a residual MLP with LayerNorm.

  h = W_in x;   h <- h + W_2 relu(W_1 LayerNorm(h)) for each block;   f(x) = w_out . LayerNorm(h)

Its parameters form three layer groups, 'input' (W_in), 'blocks' (the residual branches) and
'readout' (the last LayerNorm and w_out), each with a traced init scale and learning-rate
multiplier (hp.init_scale_blocks, hp.lr_mult_input, ...). The sweep asks whether the paper's
intervention carries over: does growing the later layers at initialisation close the gap
between a small repeated set and online training on (20, 5)-parity? At the small preset (2
seeds) it does: at step 400 an N = 4,096 subset reaches 0.88 test accuracy and online data 0.50
with the default init; with the blocks' init scale at 2, 0.95 and 0.62, and with the input
layer's lr x4 as well, 0.98 and 0.97.

  python experiments/learning_curves.py --config=examples/residual_mlp.py:small   # CPU, about 2 minutes

This one file is the model (config.model.kind = 'residual_mlp') and its config. Our choices:
2 blocks of width 64, SGD with batch 128, the grids.
"""

from typing import ClassVar

import flax.linen as nn
import jax.numpy as jnp

from sslgap import config as config_lib
from sslgap import figures
from sslgap import models
from sslgap.errors import ConfigError
from sslgap.tasks import input_dim


class ResidualNet(nn.Module):
  blocks: int
  width: int
  init_scheme: str = 'uniform'

  @nn.compact
  def __call__(self, x_BxD):
    dense = lambda features, name: models.TorchDense(features, self.init_scheme, name=name)
    h = dense(self.width, 'input')(x_BxD.astype(jnp.float32))
    for i in range(self.blocks):
      branch = nn.LayerNorm(epsilon=1e-5, name=f'block_{i}_norm')(h)
      branch = dense(self.width, f'block_{i}_fc_2')(nn.relu(dense(self.width, f'block_{i}_fc_1')(branch)))
      h = h + branch
    return dense(1, 'readout')(nn.LayerNorm(epsilon=1e-5, name='readout_norm')(h))[..., 0]


@models.register
class ResidualMLP(models.Model):
  """config.model.kind = 'residual_mlp'; metrics norm_input, norm_blocks, norm_readout."""

  kind: ClassVar[str] = 'residual_mlp'
  fields: ClassVar[dict] = dict(blocks=2, width=64, init='uniform',
                                layer_groups=(('input', 'input'), (r'block_\d+_.*', 'blocks'), ('.*', 'readout')))

  def build(self):
    return ResidualNet(blocks=self.config.blocks, width=self.config.width, init_scheme=self.config.init)

  def check(self, config):
    if self.task.sequence:
      raise ConfigError('model.kind', f'task {self.task.name!r} is a sequence task')
    for field in ('blocks', 'width'):
      value = self.config[field]
      if not (isinstance(value, int) and value >= 1):
        raise ConfigError(f'model.{field}', f'must be an integer >= 1, got {value!r}')

  def norm_names(self):
    return ['input', 'blocks', 'readout']

  def norms(self, params, groups):
    return models.group_norms(params, groups)

  def activation_floats(self, rows, eval_rows):
    per_row = input_dim(self.task) + self.config.blocks * 6 * self.config.width + 2 * self.config.width + 1
    return rows * per_row, eval_rows * 3 * self.config.width


PRESETS = ('small', 'paper')


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  steps = 2000 if preset == 'small' else 20000
  c = figures.parity_mlp(n=20, k=5, steps=steps, eval_every=steps // 10)
  c.name = 'residual_mlp'
  c.plugins = ('examples/residual_mlp.py',)
  config_lib.set_model(c, 'residual_mlp', blocks=2, width=64)
  c.sweep.dataset_size = (4096, 'online')
  c.sweep.init_scale_blocks = (0.5, 1.0, 2.0) if preset == 'small' else config_lib.log2_grid(-2, 2, 4)
  c.sweep.lr_mult_input = (1.0, 4.0) if preset == 'small' else config_lib.log2_grid(0, 3, 2)
  c.sweep.seed = tuple(range(2 if preset == 'small' else 16))
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size', panels='lr_mult_input',
                             x_axis='init_scale_blocks',
                             title='residual MLP, (20, 5)-parity: init scale of the residual blocks')
