"""Figure 30: per-parameter data source. Some parameters learn from online batches while the rest
learn from a small repeated set, in one compiled step; W_Q and W_K gain most from the small set.

(12,3)-parity encoder as in sweeps/tfm_fig1.py, an N = 512 subset: every group on the subset;
W_Q, W_K online (the rest on the subset); W_Q, W_K on the subset (the rest online); all online.

  python experiments/learning_curves.py --config=sweeps/tfm_fig30_param_source.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig30_param_source.py         # paper scale, GPU

Our choices: N, the two groups (W_Q and W_K; everything else), the small-scale task.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  fields, loss, model = figures.TRANSFORMER_TASKS['parity'][preset]
  steps = 2000 if preset == 'small' else 30000
  c = figures.transformer_task(fields, loss, steps, steps // 20, **model)
  c.name = 'tfm_fig30_param_source'
  size = 512 if preset == 'small' else 16384
  c.sweep.data__online_groups = ((), ('qk',), ('rest',))
  c.sweep.dataset_size = (size, 'online')
  c.sweep.seed = tuple(range(2 if preset == 'small' else 16))
  c.claims = (
      dict(kind='faster', text='W_Q, W_K gain most from the small set: W_Q, W_K on the subset (the rest online) beats '
           'W_Q, W_K online (the rest on the subset).', metric='test_acc', target=0.9,
           a={'data__online_groups': ('rest',), 'dataset_size': size},
           b={'data__online_groups': ('qk',), 'dataset_size': size}),
      dict(kind='faster', text='W_Q, W_K on the subset (the rest online) beat all online.', metric='test_acc',
           target=0.9, a={'data__online_groups': ('rest',), 'dataset_size': size},
           b={'data__online_groups': (), 'dataset_size': 'online'}),
  )
  c.notes = ('One subset size and one small model at the small scale; the medium preset varies both.')
  return figures.curves_plot(c, ['test_acc'], x=('steps',), series=[
      (f'all on the N = {size:,} subset', {'data__online_groups': (), 'dataset_size': size}),
      ('W_Q, W_K online; the rest on the subset', {'data__online_groups': ('qk',), 'dataset_size': size}),
      ('W_Q, W_K on the subset; the rest online', {'data__online_groups': ('rest',), 'dataset_size': size}),
      ('all online', {'data__online_groups': (), 'dataset_size': 'online'}),
  ], title='Fig 30: per-parameter data source, Transformer, parity')
