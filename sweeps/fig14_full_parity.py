"""Figure 14 (MLP): full parity (k = n) shows the small-vs-large gap too.

(16,16)-parity, 2 hidden layers of 64, SGD batch 128, lr 0.1: subsets of 4,096 and 16,384
examples against the full population of 2^16 inputs.

  python experiments/learning_curves.py --config=sweeps/fig14_full_parity.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/fig14_full_parity.py         # paper scale, GPU

Our choices (the paper's n is unknown): n = 16, 2 hidden layers (with one hidden layer, and for
n <= 14, the subsets were no faster than the population at CPU scale), the subset sizes.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 170  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig14_full_parity', figure='14', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  n = 16 if preset == 'small' else 20
  steps = 4000 if preset == 'small' else 20000
  c = figures.parity_mlp(n=n, k=n, hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig14_full_parity'
  c.sweep.dataset_size = (2**(n - 4), 2**(n - 2), 2**n)
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='faster', name='gap', text='Full parity shows the gap: a subset converges faster than the whole '
           'population.', metric='test_acc', target=0.9, a={'dataset_size': 2**(n - 2)}, b={'dataset_size': 2**n},
           a_label=f'the 2^{n - 2}-subset', b_label=f'the population (2^{n})'),
  )
  figures.paper(c, 'gap', 'However, the small-vs-large gap is still present, for both MLP and Transformers (Figure 14).',
                'Appendix B.2.1, Figure 14', f'n = {n}' + (' (the paper\'s n is not known)' if preset == 'small' else '')
                + '; an MLP of 2 hidden layers; one lr, 0.1; ' + ('8 seeds' if preset == 'small' else '64 seeds'))
  return figures.curves_plot(c, ['test_acc', 'train_acc'], lines='dataset_size',
                             title='Fig 14: full parity (k = n)')
