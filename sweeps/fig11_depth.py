"""Figure 11(a): deeper MLPs widen the small-vs-large gap.

(20,6)-parity, 1 to 3 hidden layers of 64, SGD batch 128, lr 0.1: an N = 8,192 subset against
online training, one panel per depth.

  python experiments/learning_curves.py --config=sweeps/fig11_depth.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig11_depth.py         # paper scale, GPU

Our choices: a fixed lr of 0.1 (the Fig 6 setting) for every depth, N.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 140  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig11_depth', figure='11 (depth)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig11_depth'
  c.sweep.model__hidden_layers = (1, 2, 3)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='trend', name='trend', text='Deeper MLPs widen the gap.', metric='test_acc', at='mean',
           x_axis='model__hidden_layers', a={'dataset_size': 8192}, b={'dataset_size': 'online'}, min_effect=0.02, min_effect_source='our choice: 2 points of accuracy per step along the axis', 
           a_label='the 8,192-subset', b_label='online training'),
  )
  figures.paper(c, 'trend', 'Our empirical findings confirm this, where the small-vs-large gap widens for both MLP (Figure 11(a)) and Transformers (Figure 26).',
                'Section 6, Figure 11(a)', '1 to 3 hidden layers of 64; one lr, 0.1; ' + ('8 seeds' if preset == 'small' else '64 seeds'))
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size', panels='model__hidden_layers', x=('steps',),
                             title='Fig 11(a): depth')
