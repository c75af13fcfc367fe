"""Figure 2 (parity): full-batch GD on datasets of 2^10 to 2^20 examples of (20,6)-parity.

One hidden layer of 64, hinge loss, GD (one step = the whole dataset), seeds averaged, lr tuned
per dataset size. Dataset sizes set shapes in full-batch mode, so each compiles once.

  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py         # paper scale, GPU

Our choices: the lr grids; the small preset stops at N = 2^16 and 1000 steps (2^20 costs 16x
2^16 per step on a CPU), the paper scale runs 2^10 ... 2^20 (the full population) for 3000 steps.
"""

from sslgap import figures


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 1000 if preset == 'small' else 3000
  c = figures.parity_mlp(steps=steps, eval_every=steps // 20)
  c.name = 'fig2_parity_gd'
  c.data.mode = 'full_batch'
  c.hp.dataset_size = 2**14
  top = 16 if preset == 'small' else 20
  c.sweep.dataset_size = tuple(2**e for e in range(10, top + 1, 2))
  c.sweep.lr = (1.0, 2.0) if preset == 'small' else figures.lr_grid(1.0, 10)
  c.sweep.seed = tuple(range(4 if preset == 'small' else 16))
  sizes = c.sweep.dataset_size
  small_n, large_n = 2**14, sizes[-1]
  c.claims = (
      dict(kind='faster', text=f'Full-batch GD on a smaller set converges in fewer steps (2^14 against 2^{top}).',
           metric='test_acc', target=0.9, a={'dataset_size': small_n}, b={'dataset_size': large_n}),
      dict(kind='faster', text=f'... and in far less compute (examples processed), 2^14 against 2^{top}.',
           metric='test_acc', target=0.9, x='compute', a={'dataset_size': small_n}, b={'dataset_size': large_n}),
  )
  c.notes = ('Tried before this report: lr in {0.1, 0.5, 1, 2, 4} for N from 2^10 to 2^16; at every lr the larger '
             'sets were as fast per step. N = 2^10 overfits (train 100%, test 50%).')
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size',
                             title='Fig 2: (20,6)-parity, full-batch GD')
