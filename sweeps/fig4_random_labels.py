"""Figures 4 and 12: random labels in phase 1 give the speed-up too, and the norm ratio grows.

(20,6)-parity, 2 hidden layers of 64, SGD batch 128: phase 1 on a small set (true labels or
uniform +-1 labels fixed per example), then online with true labels, against online only.
Second row: the weight-norm ratio ||a||_2 / ||W||_F (readout over first layer, Fig 12).

  python experiments/learning_curves.py --config=sweeps/fig4_random_labels.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/fig4_random_labels.py         # paper scale, GPU

Our choices: the 2-hidden-layer network of Fig 6 (with one hidden layer, online SGD at its
best lr is as fast as 2-phase training at CPU scale, so there is no speed-up to compare); phase 1
is N = 1,024 examples for the first 10% of the steps; the lr grids. The norm ratio uses the first
layer (hidden_0) and the readout.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 3000 if preset == 'small' else 20000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig4_random_labels'
  first = 1024
  c.hp.phase_sizes, c.hp.phase_lengths = (first, 'online'), (steps // 10,)
  c.sweep.phase_sizes = ((first, 'online'), ('online', 'online'))
  c.sweep.random_label_phases = (0, 1)
  c.sweep.lr = (0.1, 0.2) if preset == 'small' else figures.lr_grid(0.15, 10)
  c.sweep.seed = tuple(range(16 if preset == 'small' else 64))
  true_first = {'phase_sizes': (first, 'online'), 'random_label_phases': 0}
  random_first = {'phase_sizes': (first, 'online'), 'random_label_phases': 1}
  online = {'phase_sizes': ('online', 'online'), 'random_label_phases': 0}
  end_of_phase_1 = steps // 10
  c.claims = (
      dict(kind='faster', text='Random labels in phase 1 speed up learning against online training.',
           metric='test_acc', target=0.9, a=random_first, b=online),
      dict(kind='as_fast', text='Random labels in phase 1 give about the same speed-up as true labels.',
           metric='test_acc', target=0.9, tolerance=0.25, a=random_first, b=true_first),
      dict(kind='better', text='Fig 12: the norm ratio ||a|| / ||W|| grows faster on a small set with true labels.',
           metric='norm_ratio', at=end_of_phase_1, a=true_first, b=online),
      dict(kind='better', text='Fig 12: ... and with random labels.', metric='norm_ratio', at=end_of_phase_1,
           a=random_first, b=online),
  )
  c.notes = ('With one hidden layer, online SGD at its best lr is as fast as 2-phase training at CPU scale, so '
             'this uses the 2-hidden-layer network of Fig 6.')
  return figures.curves_plot(c, ['test_acc', 'norm_ratio'], series=[
      (f'phase 1: N = {first:,}, true labels', {'phase_sizes': (first, 'online'), 'random_label_phases': 0}),
      (f'phase 1: N = {first:,}, random labels', {'phase_sizes': (first, 'online'), 'random_label_phases': 1}),
      ('online', {'phase_sizes': ('online', 'online'), 'random_label_phases': 0}),
  ], x=('steps',), title='Figs 4 and 12: random labels in phase 1, (20,6)-parity')
