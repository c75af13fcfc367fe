"""Figure 20: on modular addition, a first phase on a small set with random labels speeds up
training on the population.

Causal decoder, (a + b) mod p with base-b digits; phase 1: a small subset (true or random
labels) for 20% of the steps, then the whole population; against the population throughout.

  python experiments/learning_curves.py --config=sweeps/tfm_fig20_modadd_warmup.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/tfm_fig20_modadd_warmup.py:medium  # CPU, 25.9 minutes measured
  python experiments/learning_curves.py --config=sweeps/tfm_fig20_modadd_warmup.py         # paper scale, GPU

The paper: phase 1 has 0.5% of the second phase's samples, 50 epochs, 20% of the time, labels
permuted. Ours: uniform random labels fixed per example (the same statistics as a permutation);
phase 1 is 1/16 of the population at the small scale (0.5% of 529 would be 3 examples), the
population itself is the second phase, p = 23 in base 3 (small) or p = 97 in base 4. The
medium preset (CPU, 25.9 minutes) runs p = 97 with 2,048 pairs held out as the test set (the
population is the 7,361 others), phase-1 sets of 32, 128 and 512 examples for 20% of 10,000 steps,
and 8 seeds; the paper scale keeps the held-out split and the paper's 0.5% phase-1 set.
"""

from sslgap import figures
from sslgap import tasks


PRESETS = ('small', 'medium', 'paper')


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 270  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig20_modadd_warmup', figure='20', small='small', paper='', medium='medium'),
)


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  fields, loss, model, test_size = figures.transformer_preset('modadd', preset)
  steps = {'small': 3000, 'medium': 10000, 'paper': 30000}[preset]
  c = figures.transformer_task(fields, loss, steps, steps // 20, lr=3e-3, test_size=test_size, **model)
  c.name = 'tfm_fig20_modadd_warmup'
  population = tasks.make_task(c.task).population_size  # the pairs that are not held out
  firsts = {'small': (population // 16,), 'medium': (32, 128, 512), 'paper': (population // 200,)}[preset]
  c.hp.phase_sizes, c.hp.phase_lengths = (firsts[0], population), (steps // 5,)
  everything = (population, population)
  c.sweep.phase_sizes = tuple((first, population) for first in firsts) + (everything,)
  c.sweep.random_label_phases = (0, 1)
  c.sweep.seed = tuple(range({'small': 4, 'medium': 8, 'paper': 16}[preset]))
  if preset == 'paper':  # the medium run had one lr, at which the population's seeds spread widely
    c.sweep.lr = figures.MODADD_PAPER_LRS
    c.train.eval_every = steps // 100
  reference = {'phase_sizes': everything, 'random_label_phases': 0}
  c.claims = tuple(
      dict(kind='faster', name=f'warmup_{first}', text=f'A random-label warm-up on {first} examples speeds up learning modular addition.',
           metric='test_acc', target=0.9, a={'phase_sizes': (first, population), 'random_label_phases': 1},
           b=reference, a_label=f'a random-label warm-up on {first} examples', b_label='the population throughout')
      for first in firsts)
  # The paper's warm-up holds 0.5% of the second phase's samples: 37 of 7,361 here, nearest 32 (medium).
  headline = f'warmup_{min(firsts, key=lambda f: abs(f - population // 200))}'
  figures.paper(c, headline, 'We train the model first on a small subset where the labels are randomly permuted, and '
                'then switch to online training for the remaining time. [...] such initial small-set random-label '
                'training speeds up learning compared to training directly with online batches with true labels.',
                'Appendix B.2.2, Figure 20', figures.transformer_departs('modadd', preset, c)
                + '; the second phase on the population (the held-out pairs apart) rather than online batches')
  if preset == 'small':
    c.notes = ('At p = 23 the whole table has 529 examples, so the population is itself a small repeated set '
               '(batch 32 for 3,000 steps is about 180 epochs of it) and the warm-up phase is 33 examples.')
  if preset == 'medium':
    c.notes = ('Conclusion (p = 97, 2,048 held-out pairs, lr 3e-3, 8 seeds, warm-ups of 2,000 of 10,000 steps): no '
               'warm-up size gives a resolved speed-up in total steps. Warm-ups on 32 and 128 random labels lean '
               'slower ([[warmup_32]]; [[warmup_128]]), 512 random labels is as fast as the population within wide '
               'intervals ([[warmup_512]]). From the grid (not a tested claim): counted from the start of phase 2, the '
               '512-example warm-up leads the population trained from scratch at the median, but a paired bootstrap '
               'of that lead reaches 0, and at the median it does not pay for its own 2,000 steps. The population '
               'alone at this lr varies widely across seeds (in the grid, one of 8 never reaches 90%), which keeps '
               'the intervals wide; the paper preset sweeps four lrs and evaluates every 300 steps.')
  series = [(f'phase 1: {first} examples, {"random" if r else "true"} labels',
             {'phase_sizes': (first, population), 'random_label_phases': r}) for first in firsts for r in (1, 0)]
  return figures.curves_plot(c, ['test_acc', 'train_acc'], x=('steps',), series=series + [
      ('population throughout', reference)], title='Fig 20: random-label warm-up')
