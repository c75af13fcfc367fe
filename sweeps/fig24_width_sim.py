"""Figure 24: width and the gap for the single-index model.

SIM He_3 in d = 40, one hidden layer of width 32 to 256, SGD batch 128, lr tuned per line:
2-phase (16,384 examples for 20% of the steps, then online) against online, one panel per width.

  python experiments/learning_curves.py --config=sweeps/fig24_width_sim.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig24_width_sim.py         # paper scale, GPU

Our choices: as in sweeps/fig1_sim.py; the widths.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 160  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig24_width_sim', figure='24', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 8000 if preset == 'small' else 40000
  c = figures.sim_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig24_width_sim'
  c.hp.phase_sizes, c.hp.phase_lengths = (16384, 'online'), (steps // 5,)
  c.sweep.model__width = (32, 64, 128, 256) if preset == 'small' else (32, 64, 128, 256, 512, 1024)
  c.sweep.phase_sizes = ((16384, 'online'), ('online', 'online'))
  c.sweep.lr = (0.03, 0.1) if preset == 'small' else figures.lr_grid(0.06, 12)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 32))
  c.claims = (
      dict(kind='trend', name='trend', text='For SIM the gap is widest at width 64: it shrinks from width 64 on.',
           metric='test_loss', best='min', at='mean', x_axis='model__width', direction='decreasing',
           x_values=tuple(w for w in c.sweep.model__width if w >= 64), a={'phase_sizes': (16384, 'online')},
           b={'phase_sizes': ('online', 'online')}, a_label='2-phase (16,384, then online)', b_label='online training'),
  )
  figures.paper(c, 'trend', 'We find that the small-vs-large gap is the widest at a small model width (e.g., width 64), as shown in [...] Figure 24 for SIM.',
                'Section 6, Figure 24', 'mini-batch 2-phase; the claim tested from width 64 up; ' + ('4 seeds, 2 lrs' if preset == 'small' else '32 seeds, 12 lrs at 1.2x'))
  return figures.curves_plot(c, ['test_loss'], best='min', panels='model__width', x=('steps',), series=[
      ('2-phase: 16,384 then online', {'phase_sizes': (16384, 'online')}),
      ('online', {'phase_sizes': ('online', 'online')}),
  ], title='Fig 24: width, single-index model')
