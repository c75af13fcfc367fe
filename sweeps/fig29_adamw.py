"""Figure 29: AdamW on MLPs closes the small-vs-large gap.

(20,6)-parity, 2 hidden layers of 64, batch 128, AdamW with lr and beta2 swept (beta1 0.9,
weight decay 0), an N = 8,192 subset against online; each line at its best (lr, beta2).
The SGD reference is sweeps/init_scale_heatmap.py's default point (same network and data).

  python experiments/learning_curves.py --config=sweeps/fig29_adamw.py:small   # CPU, ~1 minute
  python experiments/learning_curves.py --config=sweeps/fig29_adamw.py         # paper scale, GPU

Our choices: the lr and beta2 grids, N, the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 210  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig29_adamw', figure='29', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig29_adamw'
  c.optim.kind = 'adamw'
  c.hp.weight_decay = 0.0
  c.sweep.lr = (1e-3, 3e-3) if preset == 'small' else figures.lr_grid(2e-3, 12)
  c.sweep.b2 = (0.99, 0.999)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='as_fast', name='closes', text='AdamW closes the gap on MLPs: online training is as fast as the subset '
           '(within 2^0.2).', metric='test_acc', target=0.9, margin=0.2, a={'dataset_size': 8192},
           b={'dataset_size': 'online'}, a_label='the 8,192-subset', b_label='online training'),
  )
  figures.paper(c, 'closes', 'Indeed, we find that AdamW closes the gap on MLP (Figure 29), across tasks and depths.',
                'Appendix B.2.2, Figure 29', 'a fixed margin of 2^0.2, half the paper\'s smallest gap (Fig 2: 0.41 in '
                'log2), as the grid has no SGD baseline; parity, 2 hidden layers of 64; ' +
                ('8 seeds, 2 lrs, 2 beta2' if preset == 'small' else '64 seeds, 12 lrs at 1.2x, 2 beta2'))
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size',
                             title='Fig 29: AdamW')
