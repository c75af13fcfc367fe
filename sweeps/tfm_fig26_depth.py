"""Figure 26: the small-vs-large gap across Transformer depths.

(12,3)-parity, encoders of 1, 2 and 4 layers (dim 32, 4 heads), an N = 512 subset against online
training, AdamW lr 1e-3.

  python experiments/learning_curves.py --config=sweeps/tfm_fig26_depth.py:small   # CPU, ~2 minutes
  python experiments/learning_curves.py --config=sweeps/tfm_fig26_depth.py         # paper scale, GPU

Our choices: the depths, N, and the small-scale task of sweeps/tfm_fig1.py.
"""

from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 280  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='tfm_fig26_depth', figure='26', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  fields, loss, model = figures.TRANSFORMER_TASKS['parity'][preset]
  steps = 2000 if preset == 'small' else 30000
  c = figures.transformer_task(fields, loss, steps, steps // 20, **model)
  c.name = 'tfm_fig26_depth'
  c.sweep.model__layers = (1, 2, 4) if preset == 'small' else (1, 2, 4, 8)
  c.sweep.dataset_size = (512 if preset == 'small' else 16384, 'online')
  c.sweep.seed = tuple(range(2 if preset == 'small' else 16))
  size = c.sweep.dataset_size[0]
  c.claims = (dict(kind='trend', name='widens', text='Deeper Transformers widen the gap.', metric='test_acc', at='mean',
                   x_axis='model__layers', a={'dataset_size': size}, b={'dataset_size': 'online'}, min_effect=0.02,
                   min_effect_source='our choice: 2 points of accuracy per step of depth',
                   a_label=f'the {size:,}-subset', b_label='online training'),) + tuple(
      dict(kind='faster', name=f'gap_{layers}', text=f'The gap holds at depth {layers}.', metric='test_acc', target=0.9,
           a={'model__layers': layers, 'dataset_size': size}, b={'model__layers': layers, 'dataset_size': 'online'},
           a_label=f'the {size:,}-subset', b_label='online training')
      for layers in c.sweep.model__layers)
  figures.paper(c, 'widens', 'Our empirical findings confirm this, where the small-vs-large gap widens for both MLP '
                '(Figure 11(a)) and Transformers (Figure 26).', 'Section 6, Figure 26',
                figures.transformer_departs('parity', preset, c) + '; the gap is the accuracy averaged over training')
  return figures.curves_plot(c, ['test_acc'], lines='dataset_size', panels='model__layers', x=('steps',),
                             title='Fig 26: Transformer depth')
