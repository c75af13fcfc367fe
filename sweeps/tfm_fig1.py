"""Figure 1 (Transformers): small repeated sets and multi-phase schedules against online training,
for parity, SIM, in-context regression and modular addition.

Encoder for parity, SIM and ICL (mean readout; ICL reads the query's token), causal decoder for
modular addition; AdamW (beta1 0.9, beta2 0.99, no weight decay), batch 32, lr tuned per line.

  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:small          # parity, CPU ~1 min
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:sim_small      # also icl_small, modadd_small
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:modadd_medium  # CPU, 19.4 min measured
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:sim_medium     # CPU, 7.8 min measured
  python experiments/learning_curves.py --config=sweeps/tfm_fig1.py:modadd         # paper scale, GPU

Schedules (our choices; the paper's fractions are unknown): parity, a subset and a 6-phase schedule
(sizes 1/320 to 1/50 of the online budget, 10 epochs each); SIM, 2-phase (a subset for 20% of the
steps, then online); ICL, 4-phase (3 subsets growing 4x, 20% of the steps each, then online);
modular addition, 4-phase over nested subsets up to the p^2 population (1/8, 1/4, 1/2 of it for
20% of the steps each). Small scale: (12,3)-parity, SIM He_2 in d = 12, ICL with d = 2 and 8 pairs,
p = 23 in base 3, dim 32; paper scale: (20,6)-parity with dim 256 and 8 heads, SIM He_3 in d = 40,
ICL d = 8 with 32 pairs, p = 97 in base 4 (ours: the paper's base did not survive its text), dim 64,
4 heads. Medium scale, 8 seeds: SIM He_3 in d = 16 (dim 32, 6,000 steps, a 4,096 first phase);
modular addition at p = 97 in base 4 with 2,048 pairs held out for the test set (dim 64, 10,000
steps), so a schedule's phases are fractions of the 7,361 training pairs.
"""

from sslgap import figures
from sslgap import tasks

PRESETS = ('small', 'sim_small', 'icl_small', 'modadd_small', 'sim_medium', 'modadd_medium', 'paper', 'sim', 'icl',
           'modadd')
SIM_FIRST = {'small': 1024, 'medium': 4096, 'paper': 16384}
ICL_FIRST = {'small': 512, 'paper': 8192}


def schedules(task, budget, steps, c, scale):
  """[(label, phase sizes)] and the phase lengths (in c.data.phase_unit) for one task."""
  online = 'online'
  if task == 'parity':
    phases = figures.geometric_sizes(budget, 6, 1 / 320, 1 / 50)
    c.data.phase_unit = 'epochs'
    return [('6-phase', phases), (f'N = {phases[2]:,}', (phases[2],) * 6), ('online', (online,) * 6)], (10,) * 5
  if task == 'sim':
    size = SIM_FIRST[scale]
    return [(f'2-phase: {size:,} then online', (size, online)), (f'N = {size:,}', (size, size)),
            ('online', (online, online))], (steps // 5,)
  if task == 'icl':
    first = ICL_FIRST[scale]
    phases = (first, 4 * first, 16 * first, online)
    return [('4-phase', phases), (f'N = {4 * first:,}', (4 * first,) * 4), ('online', (online,) * 4)], (steps // 5,) * 3
  population = tasks.make_task(c.task).population_size  # the pairs that are not held out
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
  names = dict(b_label=reference if reference != 'online' else 'online training')
  return (dict(check, name='schedule', text=f'{schedule} converges faster than {reference} ({task}).',
               a={'phase_sizes': sizes}, b={'phase_sizes': reference_sizes}, a_label=f'the {schedule} schedule', **names),
          dict(check, name='subset', text=f'A repeated subset ({subset}) converges faster than {reference} ({task}).',
               a={'phase_sizes': subset_sizes}, b={'phase_sizes': reference_sizes}, a_label=f'the subset ({subset})',
               **names))


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 230  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig1_parity', figure='1 (Tfm, parity)', small='small', paper='paper'),
    dict(id='tfm_fig1_sim', figure='1 (Tfm, SIM)', small='sim_small', paper='sim', medium='sim_medium'),
    dict(id='tfm_fig1_icl', figure='1 (Tfm, ICL)', small='icl_small', paper='icl'),
    dict(id='tfm_fig1_modadd', figure='1 (Tfm, mod add)', small='modadd_small', paper='modadd', medium='modadd_medium'),
)


def get_config(arg=None):
  name = figures.preset(arg, PRESETS)
  task, scale = (figures.parts_of(name) or ['parity'])[0], figures.scale_of(name)
  fields, loss, model, test_size = figures.transformer_preset(task, scale)
  steps = {'small': 3000, 'medium': {'sim': 6000, 'modadd': 10000}.get(task), 'paper': 30000}[scale]
  c = figures.transformer_task(fields, loss, steps, steps // 20, test_size=test_size, **model)
  c.name = f'tfm_fig1_{task}'
  series, lengths = schedules(task, c.train.batch_size * steps, steps, c, scale)
  c.hp.phase_sizes, c.hp.phase_lengths = series[0][1], lengths
  c.sweep.phase_sizes = tuple(sizes for _, sizes in series)
  c.sweep.lr = (1e-3, 3e-3) if scale != 'paper' else figures.lr_grid(1e-3, 8, ratio=1.5)
  if task in ('modadd', 'sim') and scale == 'paper':
    c.train.eval_every = steps // 100  # medium's spacing (a twentieth) made times to a target coarse
  c.sweep.seed = tuple(range({'small': 2, 'medium': 8, 'paper': 16}[scale]))
  metric, best = ('test_loss', 'min') if task in ('sim', 'icl') else ('test_acc', 'max')
  c.claims = transformer_claims(task, series, metric, best)
  if task == 'sim' and scale != 'small':
    # Medium showed the lines' lrs, tuned on the mean loss, differ: compare at one lr as well.
    c.claims += tuple(dict(kind='faster', name=f'{name}_at_lr', metric=metric, best=best, target=0.3, per='lr',
                           a={'phase_sizes': sizes}, b={'phase_sizes': series[2][1]},
                           text=f'At a fixed lr, {label} reaches test loss 0.3 in fewer steps than online (sim).')
                      for name, (label, sizes) in zip(('schedule', 'subset'), series[:2]))
  figures.paper(c, 'schedule', 'As shown in Figure 1, smaller datasets lead to faster convergence for all tasks. For '
                'SIM, in-context learning regression and modular addition, multi-phase is used to balance accelerated '
                'optimization and good generalization.', 'Section 3, Figure 1',
                figures.transformer_departs(task, scale, c) + '; the phase fractions are our guess'
                + ('; the loss averaged over training stands for convergence speed' if best == 'min' else ''))
  if name == 'modadd_medium':
    c.notes = ('Conclusion (p = 97, 2,048 held-out pairs, 8 seeds, lr 1e-3 and 3e-3): not settled. Neither the '
               '4-phase schedule nor the repeated quarter reaches 90% held-out accuracy in resolved fewer steps than '
               'the population (both lean slower at the median: [[schedule]]; [[subset]]; the population\'s median '
               'is [[schedule.b]] steps). Read from the figure and the grid, not tested as claims: ' 
               'a single target hides two effects. The repeated quarter leads early (it reaches 50% faster at lr 3e-3, '
               'an exploratory check) but has seen a quarter of the pairs and flattens near 90%; the 4-phase '
               'schedule memorises its first 920 pairs with held-out accuracy near chance, then overtakes and ends '
               'above the population at both lrs. Population and schedule were tuned at opposite ends of the two-lr '
               'grid; the grid of the paper preset (0.24e-3 to 4.1e-3) spans both, and it evaluates every 300 steps.')
  if name == 'sim_medium':
    c.notes = ('Conclusion (SIM He_3 in d = 16, N = 4,096, 8 seeds, lr 1e-3 and 3e-3): no gap in the small set\'s '
               'favour at this scale. Neither the 2-phase schedule nor the repeated subset has a lower test loss over '
               'training than online (the schedule: [[schedule]], [[schedule.verdict]], a negative advantage being a '
               'higher loss; the subset: [[subset]], [[subset.verdict]]; the upper ends bound any advantage, against a '
               "mean loss of [[schedule.b]] online), and at a fixed lr neither reaches test loss 0.3 (70% of the label variance "
               "explained) in resolved fewer steps (the schedule's medians: [[schedule_at_lr@0.001.a]] against "
               '[[schedule_at_lr@0.001.b]] at 1e-3, [[schedule_at_lr@0.001]]; [[schedule_at_lr@0.003.a]] against '
               "[[schedule_at_lr@0.003.b]] at 3e-3, [[schedule_at_lr@0.003]]; the subset's: [[subset_at_lr@0.001]]; "
               '[[subset_at_lr@0.003]]). Read from the grid, not tested: the early lead in the figure comes with a '
               'difference of lrs. Tuned on the mean loss, the small-set lines take 3e-3 and online takes 1e-3 (3e-3 '
               'is noisier late), by margins well inside the seed noise. The paper preset\'s eight lrs (0.24e-3 to '
               "4.1e-3) span both; it evaluates every 300 of 30,000 steps (medium's 300 of 6,000 left the descent, "
               'steps 600-1,800, five evaluations) and keeps the per-lr check.')
  return figures.curves_plot(c, [metric], best=best, series=[(label, {'phase_sizes': sizes}) for label, sizes in series],
                             title=f'Fig 1 (Transformer): {task}')
