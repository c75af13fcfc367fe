"""Figure 10 (SIM): the harder link He_3 gains more from a small first phase than He_2.

Single-index model in d = 40, one hidden layer of 64, SGD batch 128, square loss, lr tuned per
line: 2-phase (16,384 examples for 20% of the steps, then online) against online, per degree.

  python experiments/learning_curves.py --config=sweeps/fig10_sim_degree.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/fig10_sim_degree.py         # paper scale, GPU

Our choices: as in sweeps/fig1_sim.py.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 130  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig10_sim_degree', figure='10 (SIM)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 8000 if preset == 'small' else 40000
  c = figures.sim_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig10_sim_degree'
  c.hp.phase_sizes, c.hp.phase_lengths = (16384, 'online'), (steps // 5,)
  c.sweep.task__degree = (2, 3)
  c.sweep.phase_sizes = ((16384, 'online'), ('online', 'online'))
  c.sweep.lr = (0.03, 0.1) if preset == 'small' else figures.lr_grid(0.06, 12)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  c.claims = (
      dict(kind='trend', name='trend', text='He_3 gains more from a small first phase than He_2.', metric='test_loss',
           best='min', at='mean', x_axis='task__degree', a={'phase_sizes': (16384, 'online')},
           b={'phase_sizes': ('online', 'online')}, a_label='2-phase (16,384, then online)', b_label='online training'),
  )
  figures.paper(c, 'trend', 'Figure 10(a) shows SIM results on MLP trained with full-batches, where the gap is wider on He_3 than He_2.',
                'Section 6, Figure 10(a)', 'mini-batch SGD with a 2-phase schedule, not full-batch GD; ' + ('4 seeds, 2 lrs' if preset == 'small' else '32 seeds, 12 lrs at 1.2x'))
  return figures.curves_plot(c, ['test_loss'], best='min', panels='task__degree', x=('steps',), series=[
      ('2-phase: 16,384 then online', {'phase_sizes': (16384, 'online')}),
      ('online', {'phase_sizes': ('online', 'online')}),
  ], title='Fig 10: task difficulty, He_2 vs He_3')
