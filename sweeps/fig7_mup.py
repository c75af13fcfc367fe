"""Figures 7, 21 and 22: muP (Tensor Programs V, for SGD) against PyTorch's standard
parameterisation, for a small subset and online training, at several widths.

(20,6)-parity, 2 hidden layers, SGD batch 128, 2,000 steps; each line at its best learning rate
(muP's input layer learns at lr x width, its readout at lr / width).

  python experiments/learning_curves.py --config=sweeps/fig7_mup.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/fig7_mup.py         # paper scale, GPU

Our choices: muP written relative to PyTorch's init (see sslgap/models/parameterization.py), the lr
grid, the widths, the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 110  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig7_mup', figure='7, 21, 22 (muP)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  c = figures.parity_mlp(hidden_layers=2, steps=2000, eval_every=100)
  c.name = 'fig7_mup'
  c.sweep.model__parameterization = ('standard', 'mup')
  c.sweep.model__width = (64, 128) if preset == 'small' else (64, 256, 1024)
  c.sweep.lr = (0.01, 0.03, 0.1, 0.3) if preset == 'small' else figures.lr_grid(0.05, 16, ratio=1.5)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  series = [(f'{p}, {name}', {'model__parameterization': p, 'dataset_size': size})
            for p in ('standard', 'mup') for name, size in (('N = 8,192', 8192), ('online', 'online'))]
  standard = ({'model__parameterization': 'standard', 'model__width': 64, 'dataset_size': 8192},
              {'model__parameterization': 'standard', 'model__width': 64, 'dataset_size': 'online'})
  c.claims = (
      dict(kind='as_fast', name='closes', text='muP closes the gap for parity: online training is as fast as the subset '
           '(width 64), within half the gap of the standard parameterisation.', metric='test_acc', target=0.9,
           a={'model__parameterization': 'mup', 'model__width': 64, 'dataset_size': 8192},
           b={'model__parameterization': 'mup', 'model__width': 64, 'dataset_size': 'online'},
           baseline={'a': standard[0], 'b': standard[1]}, a_label='the 8,192-subset under muP',
           b_label='online training under muP'),
      dict(kind='faster', name='standard_gap', text='... while with the standard parameterisation the subset is faster '
           '(width 64).', metric='test_acc', target=0.9, a=standard[0], b=standard[1],
           a_label='the 8,192-subset', b_label='online training'),
  )
  figures.paper(c, 'closes', 'Empirically, we find muP to be a strong starting point, bridging the gap in 2-layer MLPs '
                'for parity (Figure 7).', 'Section 5.2.1, Figure 7',
                '2 hidden layers of 64; ' + ('4 seeds, 4 lrs 3x apart' if preset == 'small'
                                             else '32 seeds, 16 lrs 1.5x apart'))
  return figures.curves_plot(c, ['test_acc'], series=series, panels='model__width', x=('steps',),
                             title='Figs 7, 21, 22: muP vs standard parameterisation')
