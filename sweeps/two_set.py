"""Two-set training (Charton and Kempe 2024): each batch mixes a fraction p from a small
repeated set with 1 - p fresh examples, against the small set alone and online training.

(20,6)-parity, 2 hidden layers of 64, SGD batch 128, lr 0.1, small set N = 8,192, p = 0.25
(their code's default) and 0.5.

  python experiments/learning_curves.py --config=sweeps/two_set.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/two_set.py         # paper scale, GPU

Our choices: N, the p grid, the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 200  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='two_set', figure='two-set', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'two_set'
  c.sweep.pool_fraction = (1.0, 0.5, 0.25)
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  c.claims = (
      dict(kind='better', name='two_set', text='Mixing a repeated small set into every batch (two-set training, '
           'p = 0.5) beats online training.', metric='test_acc', at='mean',
           a={'pool_fraction': 0.5, 'dataset_size': 8192}, b={'pool_fraction': 1.0, 'dataset_size': 'online'},
           a_label='two-set training (half of each batch from 8,192 examples)', b_label='online training'),
  )
  figures.paper(c, 'two_set', 'This is similar to the two-set training proposed in Charton and Kempe (2024), where '
                'each batch is a mix of samples from two sets: one small set which is repeated, and one large set '
                'consisting of online samples.', 'Section 2 (no figure of its own)',
                'the paper names two-set training but shows no figure of it: this is our test; one lr, 0.1; ' +
                ('8 seeds' if preset == 'small' else '64 seeds'))
  return figures.curves_plot(c, ['test_acc'], series=[
      ('N = 8,192 only', {'pool_fraction': 1.0, 'dataset_size': 8192}),
      ('two-set, p = 0.5', {'pool_fraction': 0.5, 'dataset_size': 8192}),
      ('two-set, p = 0.25', {'pool_fraction': 0.25, 'dataset_size': 8192}),
      ('online', {'pool_fraction': 1.0, 'dataset_size': 'online'}),
  ], title='Two-set training')
