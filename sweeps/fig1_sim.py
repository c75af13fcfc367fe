"""Figure 1 (MLP, SIM): 2-phase training (a small repeated set, then online) against online SGD.

Single-index model He_3 in d = 40, one hidden layer of 64, SGD with batch 128, square loss;
test loss (MSE) against steps and compute, seeds averaged, lr tuned per line.

  python experiments/learning_curves.py --config=sweeps/fig1_sim.py:small   # CPU, under a minute
  python experiments/learning_curves.py --config=sweeps/fig1_sim.py         # paper scale, GPU

Our choices, not the paper's (its phase-1 fraction is unknown): phase 1 is a 16,384-sample set
for the first 20% of the steps (1/12.5 of the online budget at the small preset); also shown, the
same set for all steps (too small: it overfits, Fig 18), and a 4,096 first phase.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 40  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig1_sim', figure='1 (MLP, SIM)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 8000 if preset == 'small' else 40000
  c = figures.sim_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig1_sim'
  c.hp.phase_sizes, c.hp.phase_lengths = (16384, 'online'), (steps // 5,)
  two_phase, smaller = (16384, 'online'), (4096, 'online')
  c.sweep.phase_sizes = (two_phase, smaller, (16384, 16384), ('online', 'online'))
  c.sweep.lr = (0.03, 0.1) if preset == 'small' else figures.lr_grid(0.06, 12)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  c.claims = (
      dict(kind='better', name='two_phase', text='2-phase training (a small set, then online) beats online training '
           'for SIM He_3.', metric='test_loss', best='min', at='mean', a={'phase_sizes': two_phase},
           b={'phase_sizes': ('online', 'online')}, a_label='2-phase (16,384, then online)', b_label='online training'),
      dict(kind='better', name='overfits', text='A small set alone overfits: its final loss is worse than 2-phase '
           'training.', metric='test_loss', best='min', a={'phase_sizes': two_phase}, b={'phase_sizes': (16384, 16384)},
           a_label='2-phase', b_label='the 16,384-subset alone'),
  )
  figures.paper(c, 'two_phase', 'For SIM, in-context learning regression and modular addition, multi-phase is used to '
                'balance accelerated optimization and good generalization.', 'Section 3, Figure 1',
                'the test loss averaged over training stands for convergence speed; ' +
                ('4 seeds, 2 lrs (the paper: a 1.2x grid), 8,000 steps' if preset == 'small'
                 else '32 seeds, 12 lrs at 1.2x, 40,000 steps'))
  return figures.curves_plot(c, ['test_loss'], best='min', series=[
      ('2-phase: 16,384 then online', {'phase_sizes': two_phase}),
      ('2-phase: 4,096 then online', {'phase_sizes': smaller}),
      ('16,384-subset throughout', {'phase_sizes': (16384, 16384)}),
      ('online', {'phase_sizes': ('online', 'online')}),
  ], title='Fig 1 (MLP): single-index model')
