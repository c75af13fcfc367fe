"""Figure 15: the gap with full-batch updates on a Transformer (AdamW on the whole dataset each step).

(10,3)-parity, encoder of 2 layers, dim 32, 4 heads; datasets of 128, 256 and the whole
population of 1,024 inputs; lr 1e-3.

  python experiments/learning_curves.py --config=sweeps/tfm_fig15_gd.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig15_gd.py:medium  # lr 3e-4, 1e-3, 3e-3; 8 seeds; ~30 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig15_gd.py         # paper scale, GPU

Our choices: n = 10 at the small scale so that the population fits a CPU (the paper also lowered
the input dimension for its full-batch Transformer runs), (16,3) with 2^10 to 2^16 at paper scale.
"""

from sslgap import figures


PRESETS = ('small', 'medium', 'paper')


def get_config(arg=None):
  preset = figures.preset(arg, PRESETS)
  n = 16 if preset == 'paper' else 10
  steps = {'small': 400, 'medium': 600, 'paper': 3000}[preset]
  c = figures.transformer_task(dict(name='parity', n=n, k=3), 'hinge', steps, steps // 20)
  c.name = 'tfm_fig15_gd'
  c.data.mode = 'full_batch'
  c.hp.dataset_size = 2**n
  c.sweep.dataset_size = {'small': (128, 256, 1024), 'medium': (128, 256, 512, 1024),
                          'paper': tuple(2**e for e in range(10, 17, 2))}[preset]
  if preset == 'medium':
    c.sweep.lr = (3e-4, 1e-3, 3e-3)
  c.sweep.seed = tuple(range({'small': 2, 'medium': 8, 'paper': 16}[preset]))
  sizes = c.sweep.dataset_size
  c.claims = (
      dict(kind='faster', text='The gap holds with full-batch updates: a smaller set converges in fewer steps.',
           metric='test_acc', target=0.9, a={'dataset_size': sizes[1]}, b={'dataset_size': sizes[-1]}),
      dict(kind='faster', text='... and in less compute.', metric='test_acc', target=0.9, x='compute',
           a={'dataset_size': sizes[1]}, b={'dataset_size': sizes[-1]}),
  )
  if preset == 'medium':
    c.claims += (dict(kind='faster', text=f'At a fixed lr, N = {sizes[1]} converges in fewer steps than the whole '
                      f'population ({sizes[-1]}).', metric='test_acc', target=0.9, per='lr',
                      a={'dataset_size': sizes[1]}, b={'dataset_size': sizes[-1]}),)
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size', x=('steps', 'compute'),
                             panels='lr' if preset == 'medium' else None,
                             title=f'Fig 15: full-batch AdamW, Transformer, ({n},3)-parity')
