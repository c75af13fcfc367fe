"""Figure 3(b): online training from a biased Bernoulli distribution helps only for tiny m.

(20,6)-parity, 2 hidden layers of 64, SGD batch 128, lr 0.1. Online batches are drawn with
P(x_i = +1) equal to the frequency of +1 in coordinate i of an m-sample dataset (m = 0: the
uniform distribution), against training on an N = 8,192 subset.

  python experiments/learning_curves.py --config=sweeps/fig3_biased_online.py:small   # CPU, < 1 minute
  python experiments/learning_curves.py --config=sweeps/fig3_biased_online.py         # paper scale, GPU

Our choices: the m grid, N, and the 2-hidden-layer network of Fig 6.
"""

from sslgap import figures

M_VALUES = (16, 64, 256, 1024, 8192)


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 80  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='fig3_biased_online', figure='3(b)', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  steps = 2000 if preset == 'small' else 10000
  c = figures.parity_mlp(hidden_layers=2, steps=steps, eval_every=steps // 20)
  c.name = 'fig3_biased_online'
  c.sweep.online_bias_samples = (0,) + M_VALUES
  c.sweep.dataset_size = (8192, 'online')
  c.sweep.seed = tuple(range(8 if preset == 'small' else 64))
  series = [('N = 8,192 subset', {'online_bias_samples': 0, 'dataset_size': 8192}),
            ('online, uniform', {'online_bias_samples': 0, 'dataset_size': 'online'})]
  series += [(f'online, biased by m = {m:,}', {'online_bias_samples': m, 'dataset_size': 'online'})
             for m in M_VALUES]
  uniform = {'online_bias_samples': 0, 'dataset_size': 'online'}
  c.claims = (
      dict(kind='better', name='tiny_helps', text='Online training from the biases of a tiny set (m = 16) helps.',
           metric='test_acc', at='mean', a={'online_bias_samples': 16, 'dataset_size': 'online'}, b=uniform,
           a_label='online from the biases of 16 samples', b_label='uniform online training'),
      dict(kind='faster', name='persists', text='The gap persists: the subset beats online training from the biases '
           'of a set as large as it.', metric='test_acc', target=0.9, a={'online_bias_samples': 0, 'dataset_size': 8192},
           b={'online_bias_samples': M_VALUES[-1], 'dataset_size': 'online'}, a_label='the 8,192-subset',
           b_label=f'online from the biases of {M_VALUES[-1]:,} samples'),
  )
  figures.paper(c, 'persists', 'unless the samples size is exceedingly small [...], the speedup is much more moderate '
                'compared to training on a small subset, and the small-vs-large gap persists.',
                'Section 4.1.3, Figure 3(b)', 'one lr, 0.1 (the paper tunes it); 2 hidden layers of 64; ' +
                ('8 seeds, 2,000 steps' if preset == 'small' else '64 seeds, 10,000 steps'))
  return figures.curves_plot(c, ['test_acc'], series=series,
                             title='Fig 3(b): online training from biased distributions')
