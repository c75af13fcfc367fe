"""Figures that explain themselves: what ran in the title, one colour range for the values, a gap map
centred at 0, the default init in the legend, no compute panel that repeats the step panel."""

from matplotlib.backends.backend_agg import FigureCanvasAgg
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
                data={'mode': 'full_batch'}, plot={'metrics': ['test_acc'], 'lines': 'dataset_size',
                                                   'title': 'Fig 9: 1024000 4096000 16384000 65536000 262144000 1048576000 examples'})
  r = _curves('minibatch', np.broadcast_to(STEPS * 16.0, (1, 1, len(STEPS))))
  r = results.Results(r.axis_names, r.coords, r.eval_steps, r.metrics, config)
  fig = plotting.draw(r)
  title = fig._suptitle.get_text()
  lines = title.split('\n')
  assert lines[0].startswith('Fig 9: 1024000') and lines[-1].startswith('(bands:')
  assert 'in-context regression, d = 2, 8 examples' in title and 'transformer, 2 layers, dim 32' in title
  assert 'adamw lr 0.1, full batch, 30 steps' in title  # AdamW on the whole set is not "GD"
  canvas = FigureCanvasAgg(fig)
  canvas.draw()
  drawn = fig._suptitle.get_window_extent(canvas.get_renderer())
  assert 0 <= drawn.x0 and drawn.x1 <= fig.bbox.width  # one panel of 4.4 inches holds every line
  assert not any(line.endswith(('transformer, 2', ',')) for line in lines)  # broken at '; ', not inside a part


def _panels_with_tuned_lr():
  """Two panels (width) x three series x two lrs; the best lr differs between the panels."""
  acc = np.full((2, 3, 2, 3, len(STEPS)), 0.5)
  acc[0, :, 0] += np.linspace(0, 0.4, len(STEPS))  # width 16: lr 0.1 is best
  acc[1, :, 1] += np.linspace(0, 0.4, len(STEPS))  # width 32: lr 0.3 is best
  config = dict(CONFIG, plot={'metrics': ['test_acc', 'train_acc'], 'lines': 'dataset_size', 'panels': 'model__width'})
  coords = {'model__width': np.array([16, 32]), 'dataset_size': np.array([64, 256, 1024]), 'lr': np.array([0.1, 0.3]),
            'seed': np.arange(3)}
  return results.Results(['model__width', 'dataset_size', 'lr', 'seed'], coords, STEPS,
                         {'test_acc': acc, 'train_acc': acc}, config)


def _below(fig, legend, ax):
  """Whether the legend, once laid out, lies wholly under the panel (its tick labels and x label too)."""
  canvas = FigureCanvasAgg(fig)
  canvas.draw()
  renderer = canvas.get_renderer()
  return legend.get_window_extent(renderer).y1 <= ax.xaxis.get_tightbbox(renderer).y0 + 1


def test_legends_sit_below_the_panels_never_over_the_curves():
  shared = plotting.draw(_curves('minibatch', np.broadcast_to(STEPS * 16.0, (1, 1, len(STEPS)))))
  (legend,) = shared.legends  # every column names the same lines: one legend for the figure
  assert not any(ax.get_legend() for ax in shared.axes) and _below(shared, legend, shared.axes[-1])
  tuned = plotting.draw(_panels_with_tuned_lr())
  assert not tuned.legends
  bottom = [ax for ax in tuned.axes if ax.get_legend()]
  assert len(bottom) == 2 and all(_below(tuned, ax.get_legend(), ax) for ax in bottom)  # one under each column
  texts = [[t.get_text() for t in ax.get_legend().get_texts()] for ax in bottom]
  assert '(learning rate 0.1)' in texts[0][0] and '(learning rate 0.3)' in texts[1][0]
  per_size = np.array([64.0, 256.0, 1024.0])[None, :, None, None, None] * STEPS  # full batch: compute differs from steps
  with_compute = plotting.draw(_panels_with_tuned_lr().with_examples(per_size))
  assert len(with_compute.axes) == 8  # two metrics x two panels x (steps, compute)
  bottom = [ax for ax in with_compute.axes if ax.get_legend()]
  assert bottom == [with_compute.axes[4], with_compute.axes[6]]  # under each panel's steps column, not per column
  assert all(_below(with_compute, ax.get_legend(), ax) for ax in bottom)
  panels = sum(ax.get_position().width for ax in with_compute.axes[4:])
  assert panels > 0.75  # of the figure's width: a legend wider than its column would spread the columns apart


def test_a_grid_cut_to_fewer_values_draws_the_series_it_holds():
  """A design's confirmation keeps only its claim's series: the config's plot section names more."""
  r = _curves('minibatch', np.broadcast_to(STEPS * 16.0, (1, 1, len(STEPS))))
  plot = {'metrics': ['test_acc'], 'series': [['small', {'dataset_size': 64}], ['gone', {'dataset_size': 4096}],
                                              ['large', {'dataset_size': 256}]]}
  r = results.Results(r.axis_names, r.coords, r.eval_steps, r.metrics, dict(CONFIG, plot=plot))
  fig = plotting.draw(r)
  labels = [t.get_text() for legend in fig.legends for t in legend.get_texts()] or \
           [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
  assert labels == ['small', 'large']
