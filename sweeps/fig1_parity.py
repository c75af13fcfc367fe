"""Figure 1 (MLP, parity): mini-batch SGD on a small repeated subset, a 6-phase schedule, and online.

(20,6)-parity, one hidden layer of 64 (the paper's default depth 2), SGD with batch 128, hinge
loss, seeds averaged, learning rate tuned per line (best final accuracy).

  python experiments/learning_curves.py --config=sweeps/fig1_parity.py:small   # CPU, under a minute
  python experiments/learning_curves.py --config=sweeps/fig1_parity.py         # paper scale, GPU

Our choices, not the paper's (its phase fractions and epochs are unknown): the 6-phase schedule
uses sizes growing geometrically from 1/320 to 1/50 of the online data budget (as in the paper's
auto-schedule, Fig 19) and 10 epochs per phase, the last phase running to the end (equal step
counts per phase overfit the first, tiny phases); the N-subset is the last phase's size; lr grids.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 3000 if preset == 'small' else 20000
  c = figures.parity_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig1_parity'
  budget = c.train.batch_size * steps
  phases = figures.geometric_sizes(budget, 6, 1 / 320, 1 / 50)
  c.hp.phase_sizes = phases
  c.hp.phase_lengths = (10,) * 5
  c.data.phase_unit = 'epochs'
  c.sweep.phase_sizes = (phases, (phases[-1],) * 6, ('online',) * 6)
  c.sweep.lr = (0.2, 0.5) if preset == 'small' else figures.lr_grid(0.3, 12)
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  online = {'phase_sizes': ('online',) * 6}
  c.claims = (
      dict(kind='faster', text='A small repeated subset converges faster than online training (tuned lr).',
           metric='test_acc', target=0.9, a={'phase_sizes': (phases[-1],) * 6}, b=online),
      dict(kind='faster', text='A multi-phase schedule converges faster than online training (tuned lr).',
           metric='test_acc', target=0.9, a={'phase_sizes': phases}, b=online),
  )
  c.notes = ('The 6-phase sizes and epochs are our guess (the paper gives fractions and epochs we could not recover); '
             'equal step counts per phase were worse still: the first, tiny phases overfit.')
  return figures.curves_plot(c, ['test_acc', 'train_acc'], series=[
      ('6-phase', {'phase_sizes': phases}),
      (f'N-subset, N = {phases[-1]:,}', {'phase_sizes': (phases[-1],) * 6}),
      ('online', {'phase_sizes': ('online',) * 6}),
  ], title='Fig 1 (MLP): (20,6)-parity, SGD batch 128')
