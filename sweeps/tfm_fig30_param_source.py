"""Figure 30: per-parameter data source. Some parameters learn from online batches while the rest
learn from a small repeated set, in one compiled step; W_Q and W_K gain most from the small set.

The Fig 16 setting (figures.parity_gap_transformer: (12,3)-parity, 4 layers at medium), an N = 512
subset: every group on the subset; W_Q, W_K online (the rest on the subset); W_Q, W_K on the
subset (the rest online); all online.

  python experiments/learning_curves.py --config=sweeps/tfm_fig30_param_source.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig30_param_source.py:medium  # CPU, 23.3 min measured
  python experiments/learning_curves.py --config=sweeps/tfm_fig30_param_source.py         # paper scale, GPU

Our choices: N, the two groups (W_Q and W_K; everything else), the small-scale task.
"""

from sslgap import figures


PRESETS = ('small', 'medium', 'paper')


def claims(qk_on_subset, qk_online, all_online):
  """W_Q, W_K gain most from the small set: on the subset (the rest online) they beat being online (the
  rest on the subset), and beat all online."""
  return (
      dict(kind='faster', name='qk_gain_most', text='W_Q, W_K gain most from the small set: W_Q, W_K on the subset (the rest online) beats '
           'W_Q, W_K online (the rest on the subset).', metric='test_acc', target=0.9, a=qk_on_subset, b=qk_online,
           a_label='W_Q, W_K on the subset (the rest online)', b_label='W_Q, W_K online (the rest on the subset)'),
      dict(kind='faster', name='qk_beats_online', text='W_Q, W_K on the subset (the rest online) beat all online.', metric='test_acc',
           target=0.9, a=qk_on_subset, b=all_online, a_label='W_Q, W_K on the subset (the rest online)',
           b_label='all online'),
  )


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 310  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig30_param_source', figure='30', small='small', paper='', medium='medium'),
)


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  c, size, seeds = figures.parity_gap_transformer(preset)
  c.name = 'tfm_fig30_param_source'
  c.sweep.data__online_groups = ((), ('qk',), ('rest',))
  c.sweep.dataset_size = (size, 'online')
  c.sweep.seed = seeds
  qk_on_subset, qk_online = {'data__online_groups': ('rest',)}, {'data__online_groups': ('qk',)}
  all_online = {'data__online_groups': (), 'dataset_size': 'online'}
  c.claims = claims(dict(qk_on_subset, dataset_size=size), dict(qk_online, dataset_size=size), all_online)
  if preset != 'small':
    c.claims += (dict(kind='faster', name='gap', text='The plain subset converges faster than online training (the gap to split).',
                      metric='test_acc', target=0.9, a={'data__online_groups': (), 'dataset_size': size},
                      b=all_online, a_label=f'the {size:,}-subset', b_label='online training'),)
  figures.paper(c, 'qk_gain_most', 'The parameter W_Q,K seems to benefit the most from small-set training, as switching '
                'to its updates to online hurts the performance the most.', 'Appendix B.2.2, Figure 30',
                figures.transformer_departs('parity', preset, c) + ('; 4 layers' if preset == 'medium' else ''))
  c.notes = ('The small preset tried one subset size and one small model; the medium preset takes a 4-layer model '
             'and 16 seeds.')
  if preset == 'medium':
    c.notes += (' Conclusion (4 layers, dim 32, N = 512, 16 seeds, evaluations every 50 steps): the gap to split is '
                '[[gap.verdict]] (median steps to 90%: the plain subset [[gap.a]], online [[gap.b]]; [[gap]]). Both '
                "splits reach 90% at about the subset's speed (W_Q, W_K on the subset with the rest online "
                '[[qk_gain_most.a]]; W_Q, W_K online with the rest on the subset [[qk_gain_most.b]]). No sign, then, '
                'that W_Q, W_K gain most from the small set: the tested difference is [[qk_gain_most]] '
                '([[qk_gain_most.verdict]]; its upper end bounds how much faster W_Q, W_K on the subset can be than '
                'the reverse split); against all online they lean ahead ([[qk_beats_online]], '
                '[[qk_beats_online.verdict]]). A first medium design (2 layers, widths 32 and 64, N = 256 to 2,048, '
                '8 seeds, 100-step evaluations) settled nothing: its gap was too small to split. The paper preset '
                "keeps the paper's (20,6)-parity model and evaluates every 300 of 30,000 steps.")
  series = [(f'all on the N = {size:,} subset', {'data__online_groups': (), 'dataset_size': size}),
            ('W_Q, W_K online; the rest on the subset', dict(qk_online, dataset_size=size)),
            ('W_Q, W_K on the subset; the rest online', dict(qk_on_subset, dataset_size=size)),
            ('all online', {'data__online_groups': (), 'dataset_size': 'online'})]
  return figures.curves_plot(c, ['test_acc'], x=('steps',), series=series,
                             title='Fig 30: per-parameter data source')
