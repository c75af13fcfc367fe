"""Figure 10 (parity): harder tasks (larger k) widen the small-vs-large gap.

(20,k)-parity for k = 4, 5, 6, 2 hidden layers of 64, SGD batch 128, lr 0.1: an N = 8,192
subset against online training, one panel per k.

  python experiments/learning_curves.py --config=sweeps/fig10_parity_k.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig10_parity_k.py         # paper scale, GPU

Our choices: the k grid, N, the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 120  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig10_parity_k', figure='10 (parity)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig10_parity_k'
  c.sweep.task__k = (4, 5, 6)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='trend', name='trend', text='Harder tasks (larger k) widen the gap.', metric='test_acc', at='mean',
           x_axis='task__k', a={'dataset_size': 8192}, b={'dataset_size': 'online'}, min_effect=0.02, min_effect_source='our choice: 2 points of accuracy per step along the axis', 
           a_label='the 8,192-subset', b_label='online training'),
  )
  figures.paper(c, 'trend', 'More difficult tasks lead to a wider small-vs-large gap, across tasks and architectures. [...] Figure 10(b) shows parity results on Transformers trained with mini-batch updates, where (20,6)-parity sees a bigger gap',
                'Section 6, Figure 10(b)', 'an MLP (2 hidden layers of 64), not the paper\'s Transformer; k = 4, 5, 6; one lr, 0.1; ' + ('8 seeds' if preset == 'small' else '64 seeds'))
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size', panels='task__k', x=('steps',),
                             title='Fig 10: task difficulty, parity degree k')
