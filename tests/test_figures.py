"""Figures that explain themselves: what ran in the title, one colour range for the values, a gap map
centred at 0, the default init in the legend, no compute panel that repeats the step panel."""

import numpy as np

from sslgap import plotting
from sslgap import results

STEPS = np.array([0, 10, 20, 30])
CONFIG = {'name': 'g', 'task': {'name': 'parity', 'n': 8, 'k': 3}, 'model': {'kind': 'mlp', 'width': 16},
          'optim': {'kind': 'sgd'}, 'train': {'batch_size': 16, 'steps': 30}, 'data': {'mode': 'minibatch'},
          'hp': {'lr': 0.1}}


def _curves(mode, examples):
  acc = np.random.default_rng(0).uniform(0.5, 1, size=(2, 3, len(STEPS)))
  config = dict(CONFIG, data={'mode': mode}, plot={'metrics': ['test_acc'], 'lines': 'dataset_size'})
  r = results.Results(['dataset_size', 'seed'], {'dataset_size': np.array([64, 256]), 'seed': np.arange(3)}, STEPS,
                      {'test_acc': acc}, config)
  return r.with_examples(examples)


def test_a_compute_panel_is_drawn_only_where_it_differs_from_steps():
  same = np.broadcast_to(STEPS * 16.0, (1, 1, len(STEPS)))
  assert len(plotting.draw(_curves('minibatch', same)).axes) == 1
  full_batch = np.array([64.0, 256.0])[:, None, None] * STEPS
  assert len(plotting.draw(_curves('full_batch', full_batch)).axes) == 2


def test_a_heatmap_says_what_ran_and_centres_its_gap():
  rng = np.random.default_rng(1)
  loss = rng.uniform(0.1, 0.3, size=(2, 3, 3, 4, len(STEPS)))
  loss[1] += 0.05  # the second panel is worse everywhere
  config = dict(CONFIG, plot={'kind': 'heatmap', 'x': 'init_scale_first', 'y': 'init_scale_rest', 'panels': 'dataset_size'})
  r = results.Results(['dataset_size', 'init_scale_first', 'init_scale_rest', 'seed'],
                      {'dataset_size': np.array([64, 256]), 'init_scale_first': np.array([0.5, 1.0, 2.0]),
                       'init_scale_rest': np.array([0.5, 1.0, 2.0]), 'seed': np.arange(4)}, STEPS,
                      {'test_loss': loss}, config)
  fig = plotting.draw(r, metric='test_loss')
  assert '(8,3)-parity; mlp, width 16; sgd lr 0.1, batch 16, 30 steps' in fig._suptitle.get_text()
  values, other, gap = [ax.images[0] for ax in fig.axes if ax.images]
  assert values.get_clim() == other.get_clim()  # one colour range for both panels
  low, high = gap.get_clim()
  assert low == -high and 0.03 < high < 0.2  # centred at 0, as wide as the largest gap
  assert [t.get_text() for t in fig.legends[0].get_texts()][0] == 'default (1, 1)'


def test_a_curve_figure_says_what_ran_and_its_title_fits_a_narrow_figure():
  config = dict(CONFIG, model={'kind': 'transformer', 'layers': 2, 'dim': 32},
                task={'name': 'icl', 'd': 2, 'context': 8}, optim={'kind': 'adamw'},
                data={'mode': 'full_batch'}, plot={'metrics': ['test_acc'], 'lines': 'dataset_size', 'title': 'Fig 9'})
  r = _curves('minibatch', np.broadcast_to(STEPS * 16.0, (1, 1, len(STEPS))))
  r = results.Results(r.axis_names, r.coords, r.eval_steps, r.metrics, config)
  title = plotting.draw(r)._suptitle.get_text()
  lines = title.split('\n')
  assert lines[0] == 'Fig 9' and lines[-1].startswith('(bands:')
  assert 'in-context regression, d = 2, 8 examples' in title and 'transformer, 2 layers, dim 32' in title
  assert 'adamw lr 0.1, full batch, 30 steps' in title  # AdamW on the whole set is not "GD"
  assert all(len(line) <= 57 for line in lines)  # one panel of 4.4 inches at 10 pt
  assert not any(line.endswith(('transformer, 2', ',')) for line in lines)  # broken at '; ', not inside a part
