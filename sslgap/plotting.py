"""Figures from result grids (matplotlib, Agg backend, no display needed)."""

import matplotlib
import matplotlib.ticker

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from sslgap import results as results_lib  # noqa: E402


def size_label(size, population=None):
  size = int(size)
  if size == 0:
    return 'online'
  name = f'N = 2^{size.bit_length() - 1}' if size >= 1024 and size & (size - 1) == 0 else f'N = {size:,}'
  return f'{name} (full population)' if size == population else name


def tick(value):
  exponent = np.log2(value) if value > 0 else np.nan
  return f'2^{exponent:g}' if np.isclose(exponent, np.round(exponent * 2) / 2) else f'{value:.3g}'


def collapse(results, metric, keep, best='max'):
  """Seed-mean of the final metric, then the best over every axis not in `keep` (e.g. lr)."""
  r = results.mean('seed') if 'seed' in results.axis_names else results
  values = r.final(metric)
  reduce = np.nanmax if best == 'max' else np.nanmin
  extra = [i for i, a in enumerate(r.axis_names) if a not in keep]
  if extra:
    values = reduce(values, axis=tuple(extra))
  kept = [a for a in r.axis_names if a in keep]
  return np.transpose(values, [kept.index(a) for a in keep]), [a for a in r.axis_names if a not in keep]


def heatmap_panels(results, x_axis, y_axis, panel_axis, metric='test_acc', star=(1.0, 1.0),
                   labels=None, title='', population=None):
  """One heatmap of the metric per value of panel_axis, plus the gap between first and last."""
  values, tuned = collapse(results, metric, [panel_axis, y_axis, x_axis])
  panels = results.coords[panel_axis]
  xs, ys = results.coords[x_axis], results.coords[y_axis]
  labels = labels or {}
  n = len(panels) + (1 if len(panels) == 2 else 0)
  fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.8), squeeze=False, constrained_layout=True)
  grids = [(values[i], size_label(p, population) if panel_axis == 'dataset_size' else f'{panel_axis} = {p}')
           for i, p in enumerate(panels)]
  if len(panels) == 2:
    grids.append((values[0] - values[1], 'gap: left minus middle'))
  for k, (ax, (grid, name)) in enumerate(zip(axes[0], grids)):
    is_gap = k == 2
    image = ax.imshow(grid, origin='lower', aspect='auto', cmap='RdBu_r' if is_gap else 'viridis',
                      vmin=-1 if is_gap else 0.5 if metric.endswith('acc') else None,
                      vmax=1 if metric.endswith('acc') else None)
    ax.set_xticks(range(len(xs)), [tick(v) for v in xs], rotation=90, fontsize=7)
    ax.set_yticks(range(len(ys)), [tick(v) for v in ys], fontsize=7)
    ax.set_xlabel(labels.get(x_axis, x_axis))
    ax.set_ylabel(labels.get(y_axis, y_axis))
    ax.set_title(name, fontsize=9)
    if star is not None:
      sx = np.flatnonzero(np.isclose(xs, star[0]))
      sy = np.flatnonzero(np.isclose(ys, star[1]))
      if sx.size and sy.size:
        ax.plot(sx[0], sy[0], marker='*', color='red', markersize=14, markeredgecolor='white')
    fig.colorbar(image, ax=ax, shrink=0.8)
  suffix = f' (best over {", ".join(tuned)})' if tuned else ''
  fig.suptitle(f'{title}: final {metric}, mean over seeds{suffix}', fontsize=10)
  return fig


def save(fig, path):
  fig.savefig(path, dpi=120)
  plt.close(fig)


# --- learning curves ------------------------------------------------------------------------

DERIVED = {
    # The paper's Fig 12 ratio ||a||_2 / ||W||_F: the readout's norm over the first layer's.
    'norm_ratio': lambda m: m['norm_readout'] / m['norm_hidden_0'],
}


def metric_values(results, name):
  return DERIVED[name](results.metrics) if name in DERIVED else results[name]


def series_label(selection):
  def fmt(axis, value):
    if axis == 'dataset_size':
      return size_label(value)
    if axis == 'phase_sizes':
      return 'phases ' + ' > '.join('online' if v in (0, 'online') else f'{v:,}' for v in value)
    return f'{axis}={value:g}' if isinstance(value, float) else f'{axis}={value}'
  return ', '.join(fmt(a, results_lib.parse_coord(v)) for a, v in selection.items())


def best_curve(results, metric, best):
  """Seed-mean curve; any other axis left (lr, b2, ...) is set to the value whose curve has the
  best mean over the evaluations: the fastest to learn, not merely the best at the end."""
  r = results.mean('seed') if 'seed' in results.axis_names else results
  values = metric_values(r, metric)
  flat = values.reshape(-1, values.shape[-1])
  with np.errstate(invalid='ignore'):
    score = np.where(np.isnan(flat).any(axis=1), np.nan, flat.mean(axis=1))  # a diverged curve never wins
  if np.all(np.isnan(score)):
    return flat[0], {}
  index = int(np.nanargmax(score) if best == 'max' else np.nanargmin(score))
  chosen = dict(zip(r.axis_names, np.unravel_index(index, values.shape[:-1])))
  return flat[index], {a: r.coords[a][i] for a, i in chosen.items()}


def _panels_and_series(results, plot):
  """The panel values (or [None]) and the (label, selection) series a config's plot section names."""
  panels = [None] if not plot.get('panels') else list(results.coords[plot['panels']])
  series = plot.get('series') or [(None, {plot['lines']: v}) for v in results.coords[plot['lines']].tolist()]
  return panels, series


def _panel_results(results, plot, panel):
  return results.sel(**{plot['panels']: panel}) if panel is not None else results


def _set_panel_title(ax, plot, panel):
  if panel is not None:
    ax.set_title(f'{plot["panels"]} = {results_lib.parse_coord(panel)}', fontsize=9)


def _finish(fig, axes, plot):
  for ax in axes.flat:
    ax.legend(fontsize=6)
  fig.suptitle(plot.get('title', ''), fontsize=10)
  return fig


def curves(results, plot):
  """Rows: metrics; columns: panels x (steps, compute); lines: series. plot is config.plot."""
  metrics = list(plot['metrics'])
  xs = list(plot.get('x', ('steps', 'compute')))
  panels, series = _panels_and_series(results, plot)
  ncols = len(panels) * len(xs)
  fig, axes = plt.subplots(len(metrics), ncols, figsize=(4.4 * ncols, 3.3 * len(metrics)),
                           squeeze=False, constrained_layout=True)
  for p, panel in enumerate(panels):
    sub = _panel_results(results, plot, panel)
    for label, selection in series:
      line = sub.sel(**selection)
      for m, metric in enumerate(metrics):
        y, tuned = best_curve(line, metric, plot.get('best', 'max'))
        coords = {a: results_lib.parse_coord(v) for a, v in dict(selection, **tuned).items()}
        for c, x_kind in enumerate(xs):
          ax = axes[m, p * len(xs) + c]
          x = results.eval_steps if x_kind == 'steps' else results_lib.examples_seen(results.config, coords, results.eval_steps)
          suffix = ''.join(f' ({a}={v:.3g})' for a, v in tuned.items() if isinstance(v, float) and a != 'seed')
          keep = x > 0 if x_kind == 'compute' else slice(None)  # log axis: step 0 has no place
          ax.plot(x[keep], y[keep], label=(label or series_label(selection)) + suffix)
          ax.set_xlabel('steps' if x_kind == 'steps' else 'compute (examples processed)')
          ax.set_ylabel(metric)
          if x_kind == 'compute':
            ax.set_xscale('log')
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
          if metric in plot.get('log_y', ()):
            ax.set_yscale('log')
          _set_panel_title(ax, plot, panel)
  return _finish(fig, axes, plot)


def final_vs_axis(results, plot):
  """Final metric (seed mean, best over leftover axes) against a swept axis, one line per series."""
  x_axis = plot['x_axis']
  metrics = list(plot['metrics'])
  panels, series = _panels_and_series(results, plot)
  fig, axes = plt.subplots(len(metrics), len(panels), figsize=(4.4 * len(panels), 3.3 * len(metrics)),
                           squeeze=False, constrained_layout=True)
  xs = results.coords[x_axis]
  for p, panel in enumerate(panels):
    sub = _panel_results(results, plot, panel)
    for label, selection in series:
      for m, metric in enumerate(metrics):
        ys = [best_curve(sub.sel(**selection, **{x_axis: x}), metric, plot.get('best', 'max'))[0][-1] for x in xs]
        ax = axes[m, p]
        ax.plot(xs, ys, marker='o', label=label or series_label(selection))
        ax.set_xscale('log')
        ax.set_xlabel(x_axis)
        ax.set_ylabel(f'final {metric}')
        _set_panel_title(ax, plot, panel)
  return _finish(fig, axes, plot)
