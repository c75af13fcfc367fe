"""Figures from result grids (matplotlib, Agg backend, no display needed)."""

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


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
