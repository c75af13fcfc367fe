"""Figures 7 and 23: alpha-scaling (first-layer init / alpha, later layers x alpha) closes the
small-vs-large gap, and the best alpha stays the same across widths.

(20,6)-parity, 2 hidden layers, SGD batch 128, lr 0.1, 2,000 steps: final test accuracy
against alpha for an N = 8,192 subset and online training, one panel per width.

  python experiments/learning_curves.py --config=sweeps/fig7_alpha.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/fig7_alpha.py         # paper scale, GPU

Our choices: the 2-hidden-layer network of Fig 6 (alpha multiplies both later layers), the
alpha grid, the widths (32 to 128 at the small preset; 64 to 1024 at paper scale), the budget.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 100  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig7_alpha', figure='7, 23 (alpha)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  c = figures.parity_mlp(hidden_layers=2, steps=2000, eval_every=200)
  c.name = 'fig7_alpha'
  c.sweep.model__width = (32, 64, 128) if preset == 'small' else (64, 128, 256, 512, 1024)
  c.sweep.alpha = (0.5, 1.0, 1.41, 2.0, 2.83, 4.0)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  width = 64
  c.claims = (
      dict(kind='closes', name='closes', text='alpha-scaling closes the gap (width 64): to less than half of the gap at '
           'alpha = 1.', metric='test_acc', a={'dataset_size': 8192, 'model__width': width},
           b={'dataset_size': 'online', 'model__width': width}, region={'alpha': ['>=', 1.41]}, baseline={'alpha': 1.0},
           a_label='the 8,192-subset', b_label='online training'),
      dict(kind='argmax', name='same_alpha', text='The best alpha is the same across widths (online training, smallest '
           'and largest width).', metric='test_acc', axis='alpha', direction='same', margin=0.5,
           a={'dataset_size': 'online', 'model__width': c.sweep.model__width[0]},
           b={'dataset_size': 'online', 'model__width': c.sweep.model__width[-1]},
           a_label=f'width {c.sweep.model__width[0]}', b_label=f'width {c.sweep.model__width[-1]}'),
  )
  figures.paper(c, 'closes', 'As shown in Figure 7, such scaling suffices to bridge the small-vs-large gap in both '
                'parity and SIM, and the optimal alpha remains constant across model widths (Figure 23).',
                'Section 5.2.1, Figures 7 and 23', 'parity only, one lr (0.1) and final accuracy; ' +
                ('4 seeds, widths 32 to 128' if preset == 'small' else '32 seeds, widths 64 to 1,024'))
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size', panels='model__width', x_axis='alpha',
                             title='Figs 7, 23: alpha-scaling across widths')
