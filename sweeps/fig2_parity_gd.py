"""Figure 2 (parity): full-batch GD on datasets of 2^10 to 2^20 examples of (20,6)-parity.

One hidden layer of 64, GD (one step = the whole dataset), seeds averaged, lr tuned per dataset
size. Dataset sizes set shapes in full-batch mode, so each compiles once.

  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py:small              # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py:medium             # CPU, 32.9 min measured
  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py:population_medium  # CPU, 69.8 min measured
  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py                    # paper scale, GPU

Presets. small: hinge loss, N = 2^10 ... 2^16, 1,000 steps, 4 seeds. medium: hinge and square loss,
N = 2^10 ... 2^16, the learning rate on a 1.2x grid from 0.1 to 1.85 (17 values), 8 seeds, 1,500
steps; measured 32.9 minutes on 2 cores. It found hinge loss fastest at lr 1.5-1.85 (the top of the
grid) and square loss at 0.36 (it diverges from 0.43 on), and, with hinge loss, no N from 2^12 to
2^16 clearly faster per step at any lr. population_medium: hinge and square loss, N = 2^14, 2^18 and
the full population 2^20, lr 0.36 and 1.54 (each loss's best from the medium run; a 2^20 run costs
about a minute and a half of this CPU at 1,500 steps, so the whole grid per loss and seed would take
days), 8 seeds, 1,500 steps (at these lrs the medium run's seed medians reached 90% by step 925).
The paper scale: both losses, N = 2^10 ... 2^20, lr on the 1.2x grid from 0.1 to 3.8 (past where the
medium run found hinge loss best), 16 seeds, 3,000 steps.

Our choices: the grids and lengths (the paper's lr for GD is not given).
"""

from sslgap import figures

PRESETS = ('small', 'medium', 'population_medium', 'paper')
LR_GRID = figures.lr_grid(0.1 * 1.2**8, 17)  # 0.1 x 1.2^k, k = 0 ... 16: 0.1 to 1.85
# The medium run found hinge loss fastest at the top of LR_GRID, so the paper grid goes on to 3.8.
PAPER_LR_GRID = figures.lr_grid(0.1 * 1.2**10, 21)  # k = 0 ... 20: 0.1 to 3.83


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 50  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig2_parity_gd', figure='2 (parity GD)', small='small', paper='', medium='medium'),
    dict(id='fig2_parity_gd_population', figure='2 (parity GD, to the population)', medium='population_medium'),
)


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  steps = {'small': 1000, 'medium': 1500, 'population_medium': 1500, 'paper': 3000}[preset]
  eval_every = {'small': 50, 'medium': 50, 'population_medium': 50, 'paper': 100}[preset]
  c = figures.parity_mlp(steps=steps, eval_every=eval_every)
  c.name = 'fig2_parity_gd' + ('' if preset in ('small', 'paper') else f'_{preset}')
  c.data.mode = 'full_batch'
  c.hp.dataset_size = 2**14
  sizes = {'small': (10, 12, 14, 16), 'medium': (10, 12, 14, 16), 'population_medium': (14, 18, 20),
           'paper': (10, 12, 14, 16, 18, 20)}[preset]
  c.sweep.dataset_size = tuple(2**e for e in sizes)
  if preset != 'small':
    c.sweep.loss = ('hinge', 'square')
  c.sweep.lr = {'small': (1.0, 2.0), 'medium': LR_GRID, 'paper': PAPER_LR_GRID,
                'population_medium': (LR_GRID[7], LR_GRID[15])}[preset]
  c.sweep.seed = tuple(range({'small': 4, 'paper': 16}.get(preset, 8)))
  small_n, large_n = 2**14, c.sweep.dataset_size[-1]
  per_loss = {} if preset == 'small' else {'per': 'loss'}
  # The paper: 2^14 converges in about 1,500 steps, the population in more than 2,000: log2(2000/1500).
  gap = dict(min_effect=0.415, min_effect_source='Section 3: 2^14 in 1,500 steps, the population in more than 2,000',
             a_label='2^14', b_label=f'2^{sizes[-1]}')
  c.claims = (
      dict(kind='faster', name='tuned', text=f'Full-batch GD on a smaller set converges in fewer steps (2^14 against '
           f'2^{sizes[-1]}, lr tuned per set).', metric='test_acc', target=0.9, a={'dataset_size': small_n},
           b={'dataset_size': large_n}, **per_loss, **gap),
      dict(kind='faster', name='compute', text=f'... and in far less compute (examples processed), 2^14 against '
           f'2^{sizes[-1]}.', metric='test_acc', target=0.9, x='compute', a={'dataset_size': small_n},
           b={'dataset_size': large_n}, **per_loss, a_label='2^14', b_label=f'2^{sizes[-1]}'),
  )
  figures.paper(c, 'tuned', 'For instance, for (20,6)-sparse parity, using N = 2^14 converges in 1500 steps whereas '
                'training on the full population (i.e. N = 2^20) requires more than 2000 steps',
                'Section 3, Figure 2', {
                    'small': '2^14 against 2^16, not the population; 4 seeds, 2 lrs (the paper: a 1.2x grid)',
                    'medium': '2^14 against 2^16, not the population; 17 lrs at 1.2x, hinge and square loss, 8 seeds',
                    'population_medium': 'hinge and square loss, 2 lrs (0.36 and 1.54), 8 seeds',
                    'paper': 'hinge and square loss, lrs at 1.2x, 16 seeds'}[preset])
  if preset != 'small':
    c.claims += tuple(
        dict(kind='faster', name=f'{loss}_at_lr', text=f'At a fixed lr, 2^14 converges in fewer steps than '
             f'2^{sizes[-1]} ({loss} loss).', metric='test_acc', target=0.9, per='lr',
             a={'dataset_size': small_n, 'loss': loss}, b={'dataset_size': large_n, 'loss': loss}, **gap)
        for loss in ('hinge', 'square'))
  if preset == 'population_medium':
    c.claims += (dict(kind='faster', name='n18', text='2^14 converges in fewer steps than 2^18 (lr tuned per set).',
                      metric='test_acc', target=0.9, per='loss', a={'dataset_size': small_n},
                      b={'dataset_size': 2**18}, **dict(gap, b_label='2^18')),)
  c.notes = ('Before this report we swept lr in {0.1, 0.5, 1, 2, 4} with hinge loss for N from 2^10 to 2^16 and '
             'found the larger sets as fast per step at every lr; the medium presets add square loss, a 1.2x lr '
             'grid, more seeds, N = 2^18 and the whole population. N = 2^10 overfits (train 100%, test chance). '
             "The paper's per-step gap is 2^14 in about 1,500 steps against more than 2,000 for the larger sets: a "
             'log2 ratio of 0.41 or more.')
  if preset == 'medium':
    c.notes += (' Conclusion (17 lrs from 0.1 to 1.85, 8 seeds): per step, with hinge loss no difference between 2^14'
                ' and 2^16 is resolved at any lr ([[hinge_at_lr]]); at the tuned lr (steps to 90%: [[tuned@hinge.a]] '
                'against [[tuned@hinge.b]]; [[tuned@hinge]]) the interval reaches to about the paper\'s 0.41, so hinge '
                'loss here neither shows nor excludes the paper\'s gap. With square loss 2^14 is faster at the tuned '
                'lr, 0.36 ([[tuned@square.a]] against [[tuned@square.b]] steps; [[tuned@square]]), and at 0.25 '
                '([[square_at_lr@0.2488.verdict]]); square loss reaches 90% only at lr 0.25 to 0.36, and the rows of the '
                'other lrs (neither size reaches 90%, flagged "not reached") say nothing. In compute the smaller set '
                'wins with both losses ([[compute]]), as full-batch GD on fewer examples must.')
  if preset == 'population_medium':
    c.notes += (' Conclusion (lr 0.36 and 1.54, 8 seeds): the whole population 2^20 reaches 90% in about the same '
                'median number of steps as 2^14 with both losses (hinge, tuned: [[tuned@hinge.a]] against '
                '[[tuned@hinge.b]]; [[tuned@hinge]]). With hinge loss the claim is formally inconclusive, but its '
                "interval's upper end stays below the paper's 0.41: the paper's per-step gap is not seen. With square "
                'loss the interval does not bound it ([[tuned@square]]: some population seeds never reach 90%), and '
                'square loss at lr 1.54 diverges for every N. 2^18 sits with them (hinge: [[n18@hinge]]; square: '
                '[[n18@square]]). In compute 2^14 wins ([[compute]]), by about 2^6, the ratio of the set sizes.')
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size',
                             panels='loss' if preset != 'small' else None,
                             title='Fig 2: parity')
