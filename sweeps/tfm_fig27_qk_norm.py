"""Figure 27: QK normalisation with full-batch updates (parity: with repetition it overfits more) and on
modular addition (it hurts), train against test accuracy. Figure 28 (the dynamics of that overfitting,
with a 6-phase schedule) is sweeps/tfm_fig28_qk_norm_overfit.py.

  python experiments/learning_curves.py --config=sweeps/tfm_fig27_qk_norm.py:small          # GD, parity, CPU
  python experiments/learning_curves.py --config=sweeps/tfm_fig27_qk_norm.py:modadd_small   # modular addition
  python experiments/learning_curves.py --config=sweeps/tfm_fig27_qk_norm.py:modadd_medium  # p = 97, 14.7 minutes measured
  python experiments/learning_curves.py --config=sweeps/tfm_fig27_qk_norm.py:modadd         # paper scale, GPU

Our choices: GD on 256 and 768 examples of (10,3)-parity with a quarter of its inputs held out as the
test set (small: without the split the 1,024-input "population" was trained on every test input and
the train-test gap was 0 by construction), mini-batch AdamW on a quarter
of the p^2 population and on all of it for modular addition; the models of sweeps/tfm_fig1.py.
The medium preset runs p = 97 with 2,048 pairs held out as the test set (never trained on), so
the train-test gap measures memorising, for 10,000 steps with 8 seeds.
"""

from sslgap import figures
from sslgap import tasks

PRESETS = ('small', 'modadd_small', 'modadd_medium', 'paper', 'modadd')


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 290  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig27_qk_norm', figure='27', small='small', paper='paper'),
    dict(id='tfm_fig27_modadd_qk_norm', figure='27(b)', small='modadd_small', paper='modadd', medium='modadd_medium'),
)


def get_config(arg=None):
  name = figures.preset(arg, PRESETS)
  task, scale = (figures.parts_of(name) or ['parity'])[0], figures.scale_of(name)
  steps = {'small': 400 if task == 'parity' else 3000, 'medium': 10000, 'paper': 20000}[scale]
  if task == 'parity':
    n = 10 if scale == 'small' else 16
    held_out = 2**n // 4  # the test inputs, never trained on
    c = figures.transformer_task(dict(name='parity', n=n, k=3, held_out=held_out), 'hinge', steps, steps // 20,
                                 test_size=min(held_out, 2048))
    c.data.mode = 'full_batch'
    c.hp.dataset_size = 2**n - held_out
    c.sweep.dataset_size = (256, 2**n - held_out) if scale == 'small' else (4096, 2**n - held_out)
  else:
    fields, loss, model, test_size = figures.transformer_preset('modadd', scale)
    c = figures.transformer_task(fields, loss, steps, steps // 20, lr=3e-3, test_size=test_size, **model)
    population = tasks.make_task(c.task).population_size  # the pairs that are not held out
    c.sweep.dataset_size = (population // 4, population)
  c.name = f'tfm_fig27_qk_norm_{task}'
  c.sweep.model__qk_norm = (False, True)
  if task == 'modadd' and scale == 'paper':  # medium ran lr 3e-3 alone
    c.sweep.lr = figures.MODADD_PAPER_LRS
    c.train.eval_every = steps // 100
  c.sweep.seed = tuple(range({'small': 2, 'medium': 8, 'paper': 16}[scale]))
  sizes = c.sweep.dataset_size
  series = [(f'{"QK norm" if norm else "no QK norm"}, N = {size:,}', {'model__qk_norm': norm, 'dataset_size': size})
            for norm in (False, True) for size in sizes]
  small, large = sizes
  labels = dict(a_label=f'N = {small:,} with QK norm', b_label='without')
  c.claims = (
      dict(kind='better', name='overfit', metric='overfit_acc', text=f'With repetition (N = {small:,}) QK norm overfits more: a '
           f'larger train-test gap ({task}).', a={'model__qk_norm': True, 'dataset_size': small},
           b={'model__qk_norm': False, 'dataset_size': small}, **labels),
      dict(kind='better', name='fits', metric='train_acc', at='mean', text=f'QK norm fits the training set faster (N = {small:,}, '
           f'{task}).', a={'model__qk_norm': True, 'dataset_size': small}, b={'model__qk_norm': False, 'dataset_size': small},
           **labels),
  ) + ((dict(kind='better', name='hurts', metric='test_acc', at='mean', text='QK norm hurts learning modular addition (the '
             'population).', a={'model__qk_norm': False, 'dataset_size': large},
             b={'model__qk_norm': True, 'dataset_size': large}, a_label=f'the population ({large:,}) without QK norm',
             b_label='with'),) if task == 'modadd' else ())
  if task == 'parity':
    figures.paper(c, 'overfit', 'Moreover, when data is repeated during training, QK normalization can exacerbate '
                  'overfitting, which is observed in both mini-batch (Figure 8(c), 6-phase) and full-batch training '
                  '(Figure 27(a))', 'Section 5.2.2, Figure 27(a)', f'({n},3)-parity with a quarter of its inputs held '
                  'out for the test set; ' + ('2 seeds, one lr' if scale == 'small' else '16 seeds, one lr'))
  else:
    figures.paper(c, 'hurts', 'QK normalization hurts both online and subset training for ICL (Figure 9(d)) and mod '
                  'addition (Figure 27(b)).', 'Section 5.2.2, Figure 27(b)',
                  figures.transformer_departs('modadd', scale, c) + '; the population (the held-out pairs apart) rather '
                  'than online batches; the accuracy averaged over training stands for speed')
  if name == 'modadd_medium':
    c.notes = ('Conclusion (p = 97, 2,048 held-out pairs, lr 3e-3, 8 seeds): QK norm fits the repeated quarter '
               'faster, as the paper says ([[fits]]), but overfits it less, not more: the train-test gap at the end '
               'is smaller with QK norm ([[overfit.a]] against [[overfit.b]] without; [[overfit]]), a disagreement. '
               'On the population QK norm shows no sign of hurting: its mean held-out accuracy over training is '
               'higher with QK norm, with an interval that just crosses 0 ([[hurts]]), so inconclusive and leaning '
               'against the paper. In the figure (not a tested claim), QK norm on the repeated quarter is the '
               'fastest of the four to high held-out accuracy. One lr was run; the paper preset sweeps four (0.7e-3 '
               'to 5.7e-3) and evaluates every 200 steps.')
  return figures.curves_plot(c, ['test_acc', 'train_acc'], series=series, x=('steps',),
                             title=f'Figs 27, 28: QK norm, {task}, train vs test')
