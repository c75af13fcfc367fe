"""A task the paper does not have, as a plug-in: the staircase function (Abbe et al., 2021).

x uniform on {-1, +1}^n and y = (x_1 + x_1 x_2 + ... + x_1 x_2 ... x_k) / sqrt(k): each
monomial extends the one before, so a network that has found x_1 ... x_j finds x_{j+1} with
little more search. Real labels, square loss. Does a small repeated set beat online training
here too? This sweeps an N-subset against online data over a learning-rate grid. At the small
preset it does not: online training reaches a lower test loss sooner (0.14 against 0.38 at step
1,800, lr 0.1, 4 seeds). The staircase's degree-1 term gives a population gradient from the first
step, so there is no plateau for a small set's sampling bias to shorten: a case the paper's
mechanism predicts no gap for.

  python experiments/learning_curves.py --config=examples/staircase.py:small   # CPU, about a minute

This one file is the task (registered as config.task.name = 'staircase') and its config;
config.plugins names the file so that every process that runs the config finds the task.
Our choices: (24, 10) staircase, an MLP with 2 hidden layers of 64, SGD with batch 128, N = 4,096.
"""

import math
from typing import ClassVar

import jax
import jax.numpy as jnp

from sslgap import figures
from sslgap import tasks
from sslgap.errors import ConfigError


@tasks.register
class Staircase(tasks.Task):
  """(n, k)-staircase over the first k coordinates; random labels come from another k."""

  n: int
  k: int
  name: ClassVar[str] = 'staircase'
  label_kind: ClassVar[str] = 'real'
  x_dtype: ClassVar = jnp.int8

  @property
  def example_shape(self):
    return (self.n,)

  @property
  def population_size(self):
    return 2**self.n

  def check(self, task_config):
    if self.k > self.n:
      raise ConfigError('task.k', f'k={self.k} must not exceed n={self.n}')

  def init_target(self, key):
    """The coordinates of a second staircase, for labels with the same statistics and no signal:
    outside the true support where there is room (n >= 2k), so the two are independent."""
    if self.n >= 2 * self.k:
      return {'random_support': self.k + jax.random.permutation(key, self.n - self.k)[:self.k]}
    return {'random_support': jax.random.permutation(key, self.n)[:self.k]}

  def staircase(self, x):
    return jnp.sum(jnp.cumprod(x.astype(jnp.float32), axis=-1), axis=-1) / math.sqrt(self.k)

  def label(self, target, x):
    del target
    return self.staircase(x[..., :self.k])

  def sample(self, target, key, num):
    x = jax.random.rademacher(key, (num, self.n), dtype=jnp.int8)
    return x, self.label(target, x)

  def population(self, target, key):
    """All 2^n inputs in a random order, so a prefix is a uniform subset without repeats."""
    index = jax.random.permutation(key, self.population_size).astype(jnp.uint32)
    bits = (index[:, None] >> jnp.arange(self.n, dtype=jnp.uint32)) & 1
    x = (1 - 2 * bits.astype(jnp.int8)).astype(jnp.int8)
    return x, self.label(target, x)

  def random_labels(self, target, key, x):
    del key
    return self.staircase(x[..., target['random_support']])

  def token_encoding(self):
    return 'ids', 2


PRESETS = ('small', 'paper')


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  steps = 2000 if preset == 'small' else 20000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'staircase'
  c.plugins = ('examples/staircase.py',)
  c.task = dict(name='staircase', n=24, k=10, test_size=4096)
  c.loss = 'square'
  c.sweep.dataset_size = (4096, 'online')
  c.sweep.lr = (0.05, 0.1) if preset == 'small' else figures.lr_grid(0.1, 10)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  return figures.curves_plot(c, ['test_loss'], best='min', lines='dataset_size',
                             title='staircase (24, 10): a subset against online training')
