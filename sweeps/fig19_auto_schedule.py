"""Figure 19: the auto-schedule. Six nested phases, each advanced when its train accuracy reaches
75% or after 50 epochs, against a fixed 6-phase schedule and online training.

(20,6)-parity, 2 hidden layers of 64, SGD batch 128, lr 0.1. Phase sizes grow geometrically
from 1/320 to 1/50 of the online data budget (batch x steps). The phase state lives in each
run's scan carry, so every run moves on at its own step.

  python experiments/learning_curves.py --config=sweeps/fig19_auto_schedule.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig19_auto_schedule.py         # paper scale, GPU

Our choices: the fixed schedule's 10 epochs per phase, the check cadence (every 50 steps, on
1,024 examples of the current subset), the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 190  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig19_auto_schedule', figure='19', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 3000 if preset == 'small' else 20000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig19_auto_schedule'
  phases = figures.geometric_sizes(c.train.batch_size * steps, 6, 1 / 320, 1 / 50)
  c.hp.phase_sizes, c.hp.phase_lengths = phases, (10,) * 5
  c.data.phase_unit = 'epochs'
  c.sweep.data__schedule = ('auto', 'fixed')
  c.sweep.phase_sizes = (phases, ('online',) * 6)
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  auto = {'data__schedule': 'auto', 'phase_sizes': phases}
  online = {'data__schedule': 'fixed', 'phase_sizes': ('online',) * 6}
  fixed = {'data__schedule': 'fixed', 'phase_sizes': phases}
  c.claims = (
      dict(kind='faster', name='faster', text='The auto-schedule is much faster than online training.',
           metric='test_acc', target=0.9, a=auto, b=online, a_label='the auto-schedule', b_label='online training'),
      dict(kind='as_fast', name='comparable', text='The auto-schedule performs comparably to the fixed 6-phase schedule '
           '(within half the fixed schedule\'s gain over online training).', metric='test_acc', target=0.9, a=auto,
           b=fixed, baseline={'a': fixed, 'b': online}, a_label='the auto-schedule', b_label='the fixed 6-phase schedule'),
  )
  figures.paper(c, 'faster', 'As shown in Figure 19, this auto-scheduling achieves comparable performance to the '
                '6-phase scheduling described above and is much faster than online training.',
                'Appendix B.2.2, Figure 19', '2 hidden layers of 64; one lr, 0.1; ' +
                ('8 seeds, 3,000 steps' if preset == 'small' else '64 seeds, 20,000 steps'))
  return figures.curves_plot(c, ['test_acc', 'train_acc'], series=[
      ('auto-schedule (75% train acc. or 50 epochs)', {'data__schedule': 'auto', 'phase_sizes': phases}),
      ('fixed 6-phase, 10 epochs each', {'data__schedule': 'fixed', 'phase_sizes': phases}),
      ('online', {'data__schedule': 'fixed', 'phase_sizes': ('online',) * 6}),
  ], x=('steps',), title='Fig 19: auto-schedule')
