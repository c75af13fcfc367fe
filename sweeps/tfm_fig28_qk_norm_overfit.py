"""Figure 28: with a 6-phase schedule on parity, QK normalisation fits the training set faster while the
test accuracy stays low: it overfits the repeated phases more (the paper's explanation of why QK norm
worsens multi-phase training in Figure 8(c)).

  python experiments/learning_curves.py --config=sweeps/tfm_fig28_qk_norm_overfit.py:small    # CPU, minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig28_qk_norm_overfit.py:medium   # CPU, under an hour
  python experiments/learning_curves.py --config=sweeps/tfm_fig28_qk_norm_overfit.py          # paper scale, GPU

Our choices, not the paper's: (12,3)-parity at the small and medium scales with a quarter of its 4,096
inputs held out as the test set (training never sees them, so the train-test gap measures memorising);
the 6-phase schedule of sweeps/tfm_fig1.py (sizes from 1/320 to 1/50 of the online budget, 10 epochs a
phase); online training beside it for reference. The dynamics are the train-test gap averaged over
training, the paper's "fits the training set more quickly, while the validation accuracy remains low".
"""

from sslgap import figures
from sslgap import tasks

PRESETS = ('small', 'medium', 'paper')

RANK = 300  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig28_parity_qk_norm', figure='28', small='small', paper='', medium='medium'),
)


def get_config(arg=None):
  scale = figures.preset(arg, PRESETS)
  fields, loss, model, _ = figures.transformer_preset('parity', scale)
  held_out = 2**fields['n'] // 4
  steps = {'small': 1600, 'medium': 3000, 'paper': 30000}[scale]
  c = figures.transformer_task(dict(fields, held_out=held_out), loss, steps, steps // 40,
                               test_size=min(held_out, 2048), **model)
  c.name = 'tfm_fig28_parity_qk_norm'
  population = tasks.make_task(c.task).population_size
  phases = figures.geometric_sizes(min(c.train.batch_size * steps, population * 50), 6, 1 / 320, 1 / 50)
  c.data.phase_unit = 'epochs'
  c.hp.phase_sizes, c.hp.phase_lengths = phases, (10,) * 5
  online = ('online',) * 6
  c.sweep.phase_sizes = (phases, online)
  c.sweep.model__qk_norm = (False, True)
  c.sweep.lr = {'small': (2e-3, 4e-3), 'medium': (5e-4, 1e-3, 2e-3, 4e-3), 'paper': figures.lr_grid(1e-3, 8, 1.5)}[scale]
  c.sweep.seed = tuple(range({'small': 4, 'medium': 16, 'paper': 16}[scale]))
  norm = {'phase_sizes': phases, 'model__qk_norm': True}
  plain = {'phase_sizes': phases, 'model__qk_norm': False}
  labels = dict(a_label='the 6-phase schedule with QK norm', b_label='without')
  c.claims = (
      dict(kind='better', name='overfits', metric='overfit_acc', at='mean', text='With a 6-phase schedule, QK norm '
           'overfits more: a larger train-test accuracy gap over training (parity).', a=norm, b=plain, **labels),
      dict(kind='better', name='fits', metric='train_acc', at='mean', text='QK norm fits the training set faster '
           '(6-phase, parity).', a=norm, b=plain, **labels),
      dict(kind='better', name='test_stays_low', metric='test_acc', at='mean', text='... while its test accuracy '
           'is not higher (6-phase, parity): QK norm does not help the 6-phase schedule generalise.', a=plain, b=norm,
           a_label='the 6-phase schedule without QK norm', b_label='with'),
  )
  figures.paper(c, 'overfits', 'First, QK normalization worsens 4-phase training (Figure 8(c)). A closer investigation '
                'suggests that this is due to worse overfitting. As shown in Figure 28, training with QK normalization '
                'allows to fit the training set more quickly, while the validation accuracy remains low.',
                'Appendix B.2.2, Figure 28', figures.transformer_departs('parity', scale, c)
                + f'; a quarter of the inputs held out for the test set; the gap is averaged over training')
  return figures.curves_plot(c, ['test_acc', 'train_acc'], x=('steps',), series=[
      (f'6-phase, {"QK norm" if qk else "no QK norm"}', {'phase_sizes': phases, 'model__qk_norm': qk})
      for qk in (False, True)] + [(f'online, {"QK norm" if qk else "no QK norm"}', {'phase_sizes': online,
                                                                                   'model__qk_norm': qk})
                                  for qk in (False, True)],
      title='Fig 28: QK norm and a 6-phase schedule, train vs test')
