"""Builders shared by the config files in sweeps/: the paper's default settings and plot specs.

Config files stay the place where each experiment's values are chosen; these only remove
the boilerplate that every parity or SIM experiment repeats.
"""

import ml_collections
import numpy as np

from sslgap import config as config_lib

POPULATION_20 = 2**20


def parity_mlp(n=20, k=6, hidden_layers=1, width=64, steps=3000, eval_every=150, lr=0.1):
  """(n,k)-parity, ReLU MLP with PyTorch init, SGD with batch 128 and hinge loss (the paper's MLP default)."""
  c = config_lib.base_config()
  c.task.n, c.task.k = n, k
  c.model.hidden_layers, c.model.width = hidden_layers, width
  c.loss = 'hinge'
  c.train.batch_size, c.train.steps, c.train.eval_every = 128, steps, eval_every
  c.hp.lr = lr
  return c


def sim_mlp(d=40, degree=3, hidden_layers=1, width=64, steps=8000, eval_every=400, lr=0.1):
  """Single-index model He_degree in d dimensions, ReLU MLP, SGD with batch 128, square loss."""
  c = config_lib.base_config()
  config_lib.set_task(c, name='sim', d=d, degree=degree, test_size=5000)
  c.model.hidden_layers, c.model.width = hidden_layers, width
  c.loss = 'square'
  c.train.batch_size, c.train.steps, c.train.eval_every = 128, steps, eval_every
  c.hp.lr = lr
  return c


def geometric_sizes(budget, count, first_fraction, last_fraction):
  """`count` dataset sizes growing geometrically from first_fraction to last_fraction of budget."""
  return tuple(int(round(budget * f)) for f in np.geomspace(first_fraction, last_fraction, count))


def lr_grid(center, count, ratio=1.2):
  """`count` learning rates on a multiplicative grid of `ratio` around `center` (the paper: <= 1.2x)."""
  return tuple(float(center * ratio**(i - (count - 1) / 2)) for i in range(count))


def curves_plot(c, metrics, lines=None, series=None, panels=None, x=('steps', 'compute'), best='max',
                x_axis=None, title=''):
  """Sets c.plot for experiments/learning_curves.py. series: [(label, {axis: value})]."""
  c.plot = ml_collections.ConfigDict()
  c.plot.metrics = tuple(metrics)
  c.plot.x = tuple(x)
  c.plot.best = best
  c.plot.lines = lines or ''
  c.plot.panels = panels or ''
  c.plot.x_axis = x_axis or ''
  c.plot.title = title
  c.plot.series = tuple((label, dict(selection)) for label, selection in (series or ()))
  return c


def check_preset(arg, presets=('small', 'paper')):
  arg = arg or 'paper'
  if arg not in presets:
    raise ValueError(f'unknown preset {arg!r}; use one of {presets} (none means paper scale)')
  return arg
