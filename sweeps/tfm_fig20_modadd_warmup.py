"""Figure 20: on modular addition, a first phase on a small set with random labels speeds up
training on the population.

Causal decoder, (a + b) mod p with base-b digits; phase 1: a small subset (true or random
labels) for 20% of the steps, then the whole population; against the population throughout.

  python experiments/learning_curves.py --config=sweeps/tfm_fig20_modadd_warmup.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/tfm_fig20_modadd_warmup.py         # paper scale, GPU

The paper: phase 1 has 0.5% of the second phase's samples, 50 epochs, 20% of the time, labels
permuted. Ours: uniform random labels fixed per example (the same statistics as a permutation);
phase 1 is 1/16 of the population at the small scale (0.5% of 529 would be 3 examples), the
population itself is the second phase, p = 23 in base 3 (small) or p = 97 in base 4.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  fields, loss, model = figures.TRANSFORMER_TASKS['modadd'][preset]
  steps = 3000 if preset == 'small' else 30000
  c = figures.transformer_task(fields, loss, steps, steps // 20, lr=3e-3, **model)
  c.name = 'tfm_fig20_modadd_warmup'
  population = c.task.p**2
  first = population // 16 if preset == 'small' else population // 200
  c.hp.phase_sizes, c.hp.phase_lengths = (first, population), (steps // 5,)
  c.sweep.phase_sizes = ((first, population), (population, population))
  c.sweep.random_label_phases = (0, 1)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 16))
  c.claims = (
      dict(kind='faster', text='A random-label warm-up on a small set speeds up learning modular addition.',
           metric='test_acc', target=0.9, a={'phase_sizes': (first, population), 'random_label_phases': 1},
           b={'phase_sizes': (population, population), 'random_label_phases': 0}),
  )
  c.notes = ('At p = 23 the whole table has 529 examples, so the population is itself a small repeated set '
             '(batch 32 for 3,000 steps is about 180 epochs of it) and the warm-up phase is 33 examples.')
  return figures.curves_plot(c, ['test_acc'], x=('steps',), series=[
      (f'phase 1: {first} examples, random labels', {'phase_sizes': (first, population), 'random_label_phases': 1}),
      (f'phase 1: {first} examples, true labels', {'phase_sizes': (first, population), 'random_label_phases': 0}),
      ('population throughout', {'phase_sizes': (population, population), 'random_label_phases': 0}),
  ], title='Fig 20: random-label warm-up, modular addition')
