"""Figure 2 (SIM): full-batch GD, 2-phase (8,192 examples, then 256,000) against 256,000 throughout.

Single-index model He_3, one hidden layer of 64, square loss; test loss against steps and
compute (GD's compute is the dataset size times the steps).

  python experiments/learning_curves.py --config=sweeps/fig2_sim_gd.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig2_sim_gd.py         # paper scale, GPU

The paper: d = 40, 8,192 then 256,000 (phase lengths unknown). Our choices: phase 1 lasts 20% of
the steps; the small preset scales down to d = 20 and 2,048 then 32,000 examples; the lr grids.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 60  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig2_sim_gd', figure='2 (SIM GD)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  small = preset == 'small'
  d, first, second, steps = (20, 2048, 32000, 1500) if small else (40, 8192, 256000, 4000)
  c = figures.sim_mlp(d=d, steps=steps, eval_every=steps // 20)
  c.name = 'fig2_sim_gd'
  c.data.mode = 'full_batch'
  c.hp.phase_sizes, c.hp.phase_lengths = (first, second), (steps // 5,)
  c.sweep.phase_sizes = ((first, second), (second, second), (first, first))
  c.sweep.lr = (0.1, 0.3) if small else figures.lr_grid(0.2, 8)
  c.sweep.seed = tuple(range(4 if small else 16))
  labels = dict(a_label=f'2-phase GD ({first:,}, then {second:,})', b_label=f'{second:,} throughout')
  c.claims = (
      dict(kind='faster', name='steps', text='2-phase GD (a small set, then a large one) reaches a low test loss in '
           'fewer steps than the large set alone.', metric='test_loss', best='min', above=False, target=0.05,
           a={'phase_sizes': (first, second)}, b={'phase_sizes': (second, second)}, **labels),
      dict(kind='faster', name='compute', text='... and in less compute.', metric='test_loss', best='min', above=False,
           target=0.05, x='compute', a={'phase_sizes': (first, second)}, b={'phase_sizes': (second, second)}, **labels),
  )
  figures.paper(c, 'steps', 'As shown in Figure 2, smaller datasets have better performance at each time step '
                'throughout training.', 'Section 3, Figure 2',
                'd = 20 and 2,048 then 32,000 examples (the paper: d = 40, 8,192 then 256,000); 4 seeds, 2 lrs'
                if small else '16 seeds, 8 lrs at 1.2x; the first phase a fifth of the steps (our choice)')
  return figures.curves_plot(c, ['test_loss'], best='min', series=[
      (f'2-phase: {first:,} then {second:,}', {'phase_sizes': (first, second)}),
      (f'{second:,} throughout', {'phase_sizes': (second, second)}),
      (f'{first:,} throughout', {'phase_sizes': (first, first)}),
  ], title='Fig 2: single-index model')
