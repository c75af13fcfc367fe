"""Figure 1 (Transformers): small repeated sets and multi-phase schedules against online training,
for parity, SIM, in-context regression and modular addition.

Encoder for parity, SIM and ICL (mean readout; ICL reads the query's token), causal decoder for
modular addition; AdamW (beta1 0.9, beta2 0.99, no weight decay), batch 32, lr tuned per line.

  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:small          # parity, CPU ~1 min
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:sim_small      # also icl_small, modadd_small
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:modadd         # paper scale, GPU

Schedules (our choices; the paper's fractions are unknown): parity, a subset and a 6-phase schedule
(sizes 1/320 to 1/50 of the online budget, 10 epochs each); SIM, 2-phase (a subset for 20% of the
steps, then online); ICL, 4-phase (3 subsets growing 4x, 20% of the steps each, then online);
modular addition, 4-phase over nested subsets up to the p^2 population (1/8, 1/4, 1/2 of it for
20% of the steps each). Small scale: (12,3)-parity, SIM He_2 in d = 12, ICL with d = 2 and 8 pairs,
p = 23 in base 3, dim 32; paper scale: (20,6)-parity with dim 256 and 8 heads, SIM He_3 in d = 40,
ICL d = 8 with 32 pairs, p = 97 in base 4, dim 64, 4 heads.
"""

from sslgap import figures

PRESETS = ('small', 'sim_small', 'icl_small', 'modadd_small', 'paper', 'sim', 'icl', 'modadd')


def schedules(task, budget, steps, c):
  """[(label, phase sizes)] and the phase lengths (in c.data.phase_unit) for one task."""
  online = 'online'
  if task == 'parity':
    phases = figures.geometric_sizes(budget, 6, 1 / 320, 1 / 50)
    c.data.phase_unit = 'epochs'
    return [('6-phase', phases), (f'N = {phases[2]:,}', (phases[2],) * 6), ('online', (online,) * 6)], (10,) * 5
  if task == 'sim':
    size = 1024 if steps <= 5000 else 16384
    return [(f'2-phase: {size:,} then online', (size, online)), (f'N = {size:,}', (size, size)),
            ('online', (online, online))], (steps // 5,)
  if task == 'icl':
    first = 512 if steps <= 5000 else 8192
    phases = (first, 4 * first, 16 * first, online)
    return [('4-phase', phases), (f'N = {4 * first:,}', (4 * first,) * 4), ('online', (online,) * 4)], (steps // 5,) * 3
  population = c.task.p**2
  phases = (population // 8, population // 4, population // 2, population)
  return [('4-phase', phases), (f'N = {population // 4:,}', (population // 4,) * 4),
          (f'population ({population:,})', (population,) * 4)], (steps // 5,) * 3


def transformer_claims(task, series, metric, best):
  """The paper's Fig 1 claim for a task: its schedule (series[0]) and its subset (series[1]) beat the
  reference (series[2]: online, or the whole population for modular addition)."""
  (schedule, sizes), (subset, subset_sizes), (reference, reference_sizes) = series
  if best == 'max':  # accuracy: time to 90%
    check = dict(kind='faster', metric=metric, target=0.9)
  else:  # loss: the mean over training, the area under the curve
    check = dict(kind='better', metric=metric, best='min', at='mean')
  return (dict(check, text=f'{schedule} converges faster than {reference} ({task}).', a={'phase_sizes': sizes},
               b={'phase_sizes': reference_sizes}),
          dict(check, text=f'A repeated subset ({subset}) converges faster than {reference} ({task}).',
               a={'phase_sizes': subset_sizes}, b={'phase_sizes': reference_sizes}))


def get_config(arg=None):
  name = figures.preset(arg, PRESETS)
  task, scale = (figures.parts_of(name) or ['parity'])[0], figures.scale_of(name)
  fields, loss, model = figures.TRANSFORMER_TASKS[task][scale]
  steps = 3000 if scale == 'small' else 30000
  c = figures.transformer_task(fields, loss, steps, steps // 20, **model)
  c.name = f'tfm_fig1_{task}'
  series, lengths = schedules(task, c.train.batch_size * steps, steps, c)
  c.hp.phase_sizes, c.hp.phase_lengths = series[0][1], lengths
  c.sweep.phase_sizes = tuple(sizes for _, sizes in series)
  c.sweep.lr = (1e-3, 3e-3) if scale == 'small' else figures.lr_grid(1e-3, 8, ratio=1.5)
  c.sweep.seed = tuple(range(2 if scale == 'small' else 16))
  metric, best = ('test_loss', 'min') if task in ('sim', 'icl') else ('test_acc', 'max')
  c.claims = transformer_claims(task, series, metric, best)
  return figures.curves_plot(c, [metric], best=best, series=[(label, {'phase_sizes': sizes}) for label, sizes in series],
                             title=f'Fig 1 (Transformer): {task}')
