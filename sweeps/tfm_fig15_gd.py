"""Figure 15: the gap with full-batch updates on a Transformer (AdamW on the whole dataset each step).

(10,3)-parity, encoder of 2 layers, dim 32, 4 heads; datasets of 128, 256 and the whole
population of 1,024 inputs; lr 1e-3.

  python experiments/learning_curves.py --config=sweeps/tfm_fig15_gd.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig15_gd.py         # paper scale, GPU

Our choices: n = 10 at the small scale so that the population fits a CPU (the paper also lowered
the input dimension for its full-batch Transformer runs), (16,3) with 2^10 to 2^16 at paper scale.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  n = 10 if preset == 'small' else 16
  steps = 400 if preset == 'small' else 3000
  c = figures.transformer_task(dict(name='parity', n=n, k=3), 'hinge', steps, steps // 20)
  c.name = 'tfm_fig15_gd'
  c.data.mode = 'full_batch'
  c.hp.dataset_size = 2**n
  c.sweep.dataset_size = (128, 256, 1024) if preset == 'small' else tuple(2**e for e in range(10, 17, 2))
  c.sweep.seed = tuple(range(2 if preset == 'small' else 16))
  sizes = c.sweep.dataset_size
  c.claims = (
      dict(kind='faster', text='The gap holds with full-batch updates: a smaller set converges in fewer steps.',
           metric='test_acc', target=0.9, a={'dataset_size': sizes[1]}, b={'dataset_size': sizes[-1]}),
      dict(kind='faster', text='... and in less compute.', metric='test_acc', target=0.9, x='compute',
           a={'dataset_size': sizes[1]}, b={'dataset_size': sizes[-1]}),
  )
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size',
                             title=f'Fig 15: full-batch AdamW, Transformer, ({n},3)-parity')
