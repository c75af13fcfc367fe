"""Figure 16: a Transformer keeps the small-vs-large gap when the small set's input biases are removed.

(12,3)-parity at the small and medium scales, (20,6) at the paper scale, as sweeps/tfm_fig1.py; a
subset (N = 512; 16,384 at the paper scale) plain, with zero column means, or with zero means,
pairwise products and label mean (16 Hadamard sign patterns per base input), against online training.

  python experiments/learning_curves.py --config=sweeps/tfm_fig16_debias.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig16_debias.py:medium  # 4 layers, 16 seeds, 18.6 min
  python experiments/learning_curves.py --config=sweeps/tfm_fig16_debias.py         # paper scale, GPU

Our choices: as in sweeps/fig3_debias.py and sweeps/tfm_fig1.py; the setting (figures.parity_gap_transformer)
is shared with Fig 30, which splits the same gap between parameters.
"""

from sslgap import figures


PRESETS = ('small', 'medium', 'paper')


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 260  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig16_debias', figure='16', small='small', paper='', medium='medium'),
)


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  c, size, seeds = figures.parity_gap_transformer(preset)
  c.name = 'tfm_fig16_debias'
  c.sweep.data__debias = ('none', 'mean', 'second_order')
  c.sweep.dataset_size = (size, 'online')
  c.sweep.seed = seeds
  online = {'data__debias': 'none', 'dataset_size': 'online'}
  c.claims = (
      dict(kind='faster', name='plain', text='The plain subset converges faster than online training.', metric='test_acc',
           target=0.9, a={'data__debias': 'none', 'dataset_size': size}, b=online, a_label=f'the {size:,}-subset',
           b_label='online training'),
      dict(kind='faster', name='mean', text='Debiased small sets keep the gap (zero column means).', metric='test_acc',
           target=0.9, a={'data__debias': 'mean', 'dataset_size': size}, b=online,
           a_label=f'the debiased {size:,}-subset', b_label='online training'),
      dict(kind='faster', name='second_order', text='... and with second-order debiasing.', metric='test_acc', target=0.9,
           a={'data__debias': 'second_order', 'dataset_size': size}, b=online,
           a_label=f'the second-order debiased {size:,}-subset', b_label='online training'),
  )
  figures.paper(c, 'mean', 'As discussed Section 4.1, the small-vs-large gap cannot be explained by a strong input bias '
                'from a smaller dataset, as the gap persists even when the input bias is removed (Figure 3(a)). The same '
                'conclusion holds for Transformers Figure 16.', 'Appendix B.2.1, Figure 16',
                figures.transformer_departs('parity', 'small' if preset == 'small' else preset, c))
  c.notes = ('The MLP version (Fig 3a) has a wider gap to keep; here the plain subset is only a few hundred steps '
             'ahead of online training at the small scale.')
  if preset == 'medium':
    c.notes += (' Conclusion (4 layers, N = 512, 16 seeds, evaluated every 50 steps): the plain subset converges '
                'faster than online training ([[plain.verdict]]: median steps to 90% [[plain.a]] against [[plain.b]], '
                '[[plain]]) and a subset with zero column means keeps the gap ([[mean.verdict]]: [[mean.a]] against '
                '[[mean.b]], [[mean]]). Second-order debiasing shows no gap at this scale ([[second_order.a]] against '
                '[[second_order.b]], [[second_order]]: the upper end bounds its speed-up) and spreads widely across '
                "seeds. Not a disagreement with the paper's second-order claim, which was made at (20,6)-parity with a "
                'larger gap; the paper preset evaluates every 300 of 30,000 steps. (A first medium run evaluated every '
                "150 steps, which left the plain subset's interval touching 0.)")
  return figures.curves_plot(c, ['test_acc'], x=('steps',), series=[
      (f'N = {size:,}', {'data__debias': 'none', 'dataset_size': size}),
      (f'N = {size:,}, column means 0', {'data__debias': 'mean', 'dataset_size': size}),
      (f'N = {size:,}, second-order debiased', {'data__debias': 'second_order', 'dataset_size': size}),
      ('online', {'data__debias': 'none', 'dataset_size': 'online'}),
  ], title='Fig 16: debiased small sets')
