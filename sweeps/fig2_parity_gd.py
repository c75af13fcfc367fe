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
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size',
                             title='Fig 2: (20,6)-parity, full-batch GD')
