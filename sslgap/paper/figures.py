"""Builders shared by the config files in sweeps/: the paper's default settings and plot specs.

Config files stay the place where each experiment's values are chosen; these only remove
the boilerplate that every parity or SIM experiment repeats.
"""

import ml_collections
import numpy as np

from sslgap.setup import config as config_lib

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


def preset(arg, presets=('small', 'paper')):
  """The preset a config's get_config(arg) was given: one of `presets`; none means 'paper'.

  A preset name is its parts (a task, a kind of intervention) and a scale, joined by '_'
  ('sim_init_small'); the paper scale has no suffix ('sim_init', or 'paper' alone)."""
  name = arg or 'paper'
  if name not in presets:
    raise ValueError(f'unknown preset {name!r}; use one of {tuple(presets)} (none means paper scale)')
  return name


def scale_of(name):
  """'small', 'medium' or 'paper' for a preset name."""
  for scale in ('small', 'medium'):
    if name == scale or name.endswith('_' + scale):
      return scale
  return 'paper'


def parts_of(name):
  """A preset name's parts without its scale: 'sim_init_small' -> ['sim', 'init'], 'small' -> []."""
  return [p for p in name.split('_') if p not in ('small', 'medium', 'paper')]


def transformer_task(task, loss, steps, eval_every, layers=2, heads=4, dim=32, causal=False, readout='mean',
                     lr=1e-3, b2=0.99, batch=32, test_size=1024):
  """A Transformer trained with AdamW (beta1 0.9, no weight decay) and batch 32 on `task`
  (a dict of config.task fields without test_size): the paper's Transformer default."""
  c = config_lib.base_config()
  config_lib.set_task(c, test_size=test_size, **task)
  config_lib.set_transformer(c, layers=layers, heads=heads, dim=dim, causal=causal, readout=readout)
  c.loss = loss
  c.optim.kind = 'adamw'
  c.hp.lr, c.hp.b2, c.hp.weight_decay = lr, b2, 0.0
  c.train.batch_size, c.train.steps, c.train.eval_every = batch, steps, eval_every
  c.data.eval_train_size = test_size
  return c


# The Transformer tasks at the two scales: (task fields, loss, model fields).
TRANSFORMER_TASKS = {
    'parity': {'small': (dict(name='parity', n=12, k=3), 'hinge', dict(dim=32, heads=4)),
               'medium': (dict(name='parity', n=12, k=3), 'hinge', dict(dim=32, heads=4)),
               'paper': (dict(name='parity', n=20, k=6), 'hinge', dict(dim=256, heads=8))},
    'sim': {'small': (dict(name='sim', d=12, degree=2), 'square', dict(dim=32, heads=4)),
            'medium': (dict(name='sim', d=16, degree=3), 'square', dict(dim=32, heads=4)),
            'paper': (dict(name='sim', d=40, degree=3), 'square', dict(dim=64, heads=4))},
    'icl': {'small': (dict(name='icl', d=2, context=8), 'square', dict(dim=32, heads=4, readout='last')),
            'medium': (dict(name='icl', d=2, context=8), 'square', dict(dim=32, heads=4, readout='last')),
            'paper': (dict(name='icl', d=8, context=32), 'square', dict(dim=64, heads=4, readout='last'))},
    # Modular addition at the paper's p = 97 holds 2,048 of its 9,409 pairs out of training (the
    # test set), so memorising and generalising are told apart; base 4 is our choice (the
    # paper's base did not survive its text).
    'modadd': {'small': (dict(name='modadd', p=23, base=3), 'cross_entropy',
                         dict(dim=32, heads=4, causal=True, readout='last')),
               'medium': (dict(name='modadd', p=97, base=4, held_out=2048), 'cross_entropy',
                          dict(dim=64, heads=4, causal=True, readout='last')),
               'paper': (dict(name='modadd', p=97, base=4, held_out=2048), 'cross_entropy',
                         dict(dim=64, heads=4, causal=True, readout='last'))},
}
TEST_SIZES = {'modadd': {'medium': 2048, 'paper': 2048}}  # the held-out pairs
# The paper-scale lrs of the modular-addition figures that fixed one lr at the medium scale: the
# medium Fig 1 run preferred 1e-3 and 3e-3, inside this grid.
MODADD_PAPER_LRS = lr_grid(2e-3, 4, ratio=2)


def parity_gap_transformer(preset):
  """(config, subset size, seeds) of the Transformer parity setting whose gap Figs 16 and 30 take
  apart: (12,3)-parity with a 512 subset ((20,6) with 16,384 at paper scale), 4 layers at medium,
  where the gap is resolved (depth widens it, Fig 26), and evaluations dense enough to time lines
  that reach 90% within 400 to 1,000 of the 3,000 medium steps. The seeds are the caller's last
  sweep axis."""
  fields, loss, model, test_size = transformer_preset('parity', preset)
  if preset == 'medium':
    model['layers'] = 4
  steps = {'small': 2000, 'medium': 3000, 'paper': 30000}[preset]
  eval_every = steps // {'small': 20, 'medium': 60, 'paper': 100}[preset]
  c = transformer_task(fields, loss, steps, eval_every, test_size=test_size, **model)
  return c, 16384 if preset == 'paper' else 512, tuple(range(2 if preset == 'small' else 16))


def transformer_preset(task, scale):
  """(task fields with test_size, loss, model fields) of a Transformer task at a scale."""
  fields, loss, model = TRANSFORMER_TASKS[task][scale]
  return dict(fields), loss, dict(model), TEST_SIZES.get(task, {}).get(scale, 1024)


def paper(c, headline, quote, where, departs):
  """The config's paper section: which of its claims (by name) tests the paper's own sentence, that
  sentence quoted with where it stands, and how this setting departs from the paper's (for the report's
  and README's findings; sslgap.findings)."""
  c.paper = dict(headline=headline, quote=quote, where=where, departs=departs)
  return c


def transformer_departs(task, scale, c):
  """How a Transformer preset departs from the paper's setting, in a few words: its task and model sizes
  against the paper scale's, its seeds and learning rates."""
  fields, _, model = TRANSFORMER_TASKS[task][scale]
  paper_fields, _, paper_model = TRANSFORMER_TASKS[task]['paper']
  size = lambda f: ', '.join(f'{k} = {v}' for k, v in f.items() if k not in ('name', 'held_out'))
  words = []
  if fields != paper_fields:
    words.append(f'{task} with {size(fields)} (the paper scale: {size(paper_fields)})')
  if model.get('dim') != paper_model.get('dim'):
    words.append(f'width {model["dim"]} (paper scale {paper_model["dim"]})')
  seeds = len(c.sweep.get('seed', (0,)))
  lrs = c.sweep.get('lr')
  words.append(f'{seeds} seeds, ' + (f'{len(lrs)} lrs ({", ".join(f"{v:g}" for v in lrs)})' if lrs and len(lrs) <= 3
                                     else f'{len(lrs)} lrs' if lrs else f'one lr ({c.hp.lr:g})'))
  return '; '.join(words)
