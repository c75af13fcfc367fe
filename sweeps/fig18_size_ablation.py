"""Figure 18: the small set's size. Too small overfits; a moderate size learns fastest.

(20,6)-parity, 2 hidden layers of 64, SGD batch 128, lr 0.1, N from 1,024 to the population.

  python experiments/learning_curves.py --config=sweeps/fig18_size_ablation.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/fig18_size_ablation.py         # paper scale, GPU

Our choices: the 2-hidden-layer network of Fig 6, the size grid. The SIM side of Fig 18 is the
'16,384-subset throughout' line of sweeps/fig1_sim.py.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 180  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig18_size_ablation', figure='18', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig18_size_ablation'
  c.sweep.dataset_size = (1024, 2048, 4096, 8192, 16384, 65536, figures.POPULATION_20)
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='better', name='moderate', text='A moderate small set beats the population.', metric='test_acc',
           at='mean', a={'dataset_size': 8192}, b={'dataset_size': figures.POPULATION_20},
           a_label='the 8,192-subset', b_label='the population'),
      dict(kind='better', name='overfits', text='Too small a set overfits: a moderate one beats it.', metric='test_acc',
           a={'dataset_size': 8192}, b={'dataset_size': 1024}, a_label='the 8,192-subset', b_label='the 1,024-subset'),
  )
  figures.paper(c, 'overfits', 'A proper dataset provides learning speedup without incurring severe overfitting, as '
                'shown in Figure 18 for parity and single-index model (SIM).', 'Appendix B.2.2, Figure 18',
                'parity only; one lr, 0.1; ' + ('8 seeds' if preset == 'small' else '64 seeds'))
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size', x=('steps',),
                             title='Fig 18: small-set size')
