"""Series of a result grid, one rule for claims, figures and `sslgap.show`.

A series is a selection of the grid such as {'dataset_size': 8192}. The axes it does not fix,
besides the seed, are tuned: the setting whose seed-mean curve of the tuning metric is best on
average over training wins, and a setting where some seed diverged never wins unless every
setting has one. Curves on average, not final values: the final value saturates (ties) once
several settings learn, and a setting that got there first is the better one.
"""

import itertools

import numpy as np

from sslgap.science import results as results_lib
from sslgap.science import stats


def _score(curves, best):
  """How good each curve is: its mean over the evaluations (a diverged curve never wins)."""
  with np.errstate(invalid='ignore'):
    score = np.where(np.isnan(curves).any(axis=-1), np.nan, curves.mean(axis=-1))
  return score if best == 'max' else -score


def series(results, selection, metric, best='max', keep=(), tune_on=None):
  """[..., seeds, E] of one series: results.sel(selection), other axes tuned on the seed mean
  (except `keep`, which stay in front, in their grid order)."""
  return tuned(results, selection, metric, best, keep, tune_on=tune_on)[0]


def tune_metric_for(results, metric):
  """What the other axes are tuned on: the metric itself if it is a loss or an accuracy, else the
  test accuracy (or loss), as the figures are."""
  if metric.endswith(('_acc', '_loss')) and not metric.startswith('overfit'):
    return metric, 'min' if metric.endswith('loss') else 'max'
  return ('test_acc', 'max') if 'test_acc' in results.metrics else ('test_loss', 'min')


def _arranged(values, names, keep, tune):
  if 'seed' not in names:  # one run per point: a seed axis of one
    values, names = values[..., None, :], names + ['seed']
  order = [names.index(a) for a in keep] + [names.index(a) for a in tune] + [names.index('seed')]
  values = np.transpose(values, order + [values.ndim - 1])
  kept_shape = values.shape[:len(keep)]
  tuned_shape = values.shape[len(keep):len(keep) + len(tune)]
  return values.reshape(kept_shape + (int(np.prod(tuned_shape, dtype=int)),) + values.shape[-2:]), tuned_shape


def tuned(results, selection, metric, best='max', keep=(), tune_metric=None, tune_on=None):
  """(values [..., seeds, E], chosen): like series(), and {axis: value} of the tuned axes where no
  axis is kept (else None). The metric may be a derived one (DERIVED). The tuned axes are chosen
  on tune_metric (default: tune_metric_for), by the curve best on average over training; a
  setting where some seed diverged never wins unless every setting has one. tune_on: other runs of
  the same axes (other seeds) to choose the tuned axes on instead of the returned ones (cross-fitting)."""
  values, chosen, _ = tuned_with_edges(results, selection, metric, best, keep, tune_metric, tune_on)
  return values, chosen


def tuned_with_edges(results, selection, metric, best='max', keep=(), tune_metric=None, tune_on=None):
  """tuned()'s (values, chosen), and {axis: value} of the tuned axes (of at least 2 values) whose chosen
  value lies at an end of its grid in some kept cell: there the optimum may lie beyond the grid."""
  sub = results.sel(**selection) if selection else results
  names = list(sub.axis_names)
  tune = [a for a in names if a != 'seed' and a not in keep]
  values, tuned_shape = _arranged(metric_values(sub, metric), names, keep, tune)
  kept_shape = values.shape[:len(keep)]
  choice = np.zeros(kept_shape, int)
  if tune:
    by, by_best = (tune_metric, 'min' if tune_metric.endswith('loss') else 'max') if tune_metric else \
        tune_metric_for(results, metric)
    if by == metric:
      by_best = best
    judge = sub if tune_on is None else (tune_on.sel(**selection) if selection else tune_on)
    judged, _ = _arranged(metric_values(judge, by), names, keep, tune)
    strict = _score(judged.mean(axis=-2), by_best)  # NaN if any seed diverged
    lenient = _score(stats._nan_quiet(np.nanmean, judged, axis=-2), by_best)
    score = np.where(np.all(np.isnan(strict), axis=-1, keepdims=True), lenient, strict)
    choice = np.argmax(np.where(np.isnan(score), -np.inf, score), axis=-1)
  chosen, edges = None, {}
  if not keep:
    index = np.unravel_index(int(choice), tuned_shape) if tune else ()
    chosen = {a: sub.coords[a][i].item() for a, i in zip(tune, index)}
  if tune:
    edges = _edges(sub, tune, tuned_shape, score.reshape(-1, score.shape[-1]), np.asarray(choice).reshape(-1))
  return np.take_along_axis(values, choice[..., None, None, None], axis=-3)[..., 0, :, :], chosen, edges


def _edges(sub, tune, tuned_shape, scores, choices):
  """{axis: value} of the tuned axes whose chosen value (per kept cell: scores [cells, settings], choices
  [cells]) sits at an end of its grid and beats its inward neighbour: there the optimum may lie beyond.
  A tie with the neighbour (an axis that does not change the series) is no edge, nor is a non-numeric
  axis; an axis of two values counts only for a learning rate (any setting of two lrs is an end)."""
  edges = {}
  for cell, flat in enumerate(choices):
    position = np.unravel_index(int(flat), tuned_shape)
    for k, axis in enumerate(tune):
      size, at = tuned_shape[k], position[k]
      numeric = np.issubdtype(np.asarray(sub.coords[axis]).dtype, np.number)
      if size < 2 or not numeric or at not in (0, size - 1) or (size == 2 and not axis.startswith('lr')):
        continue
      inward = list(position)
      inward[k] = 1 if at == 0 else size - 2
      neighbour = scores[cell, np.ravel_multi_index(inward, tuned_shape)]
      if not np.isfinite(neighbour) or scores[cell, flat] > neighbour + 1e-12 * max(1.0, abs(neighbour)):
        edges.setdefault(axis, sub.coords[axis][at].item())
  return edges


# Metrics computed from recorded ones.
DERIVED = {
    # The paper's Fig 12 ratio ||a||_2 / ||W||_F: the readout's norm over the first layer's.
    'norm_ratio': lambda m: m['norm_readout'] / m['norm_hidden_0'],
    # How much better the training data is fitted than the test data (overfitting).
    'overfit_acc': lambda m: m['train_acc'] - m['test_acc'],
    'overfit_loss': lambda m: m['test_loss'] - m['train_loss'],
}


def _t1(results):
  """Phase-1 steps of the theory model, +inf while phase 1 lasts (the counter equals the step then)."""
  steps = results['phase1_steps']
  return np.where(steps >= results.eval_steps, np.inf, steps)


def metric_values(results, name):
  if name in results.metrics:
    return results[name]
  if name == 't1':
    return _t1(results)
  return DERIVED[name](results.metrics) if name in DERIVED else results[name]


def label(selection):
  """A selection in words: key=value, floats to 4 significant digits."""
  return ', '.join(f'{k}={short(v)}' for k, v in selection.items())


def short(value):
  return f'{value:.4g}' if isinstance(value, (float, np.floating)) else value


def best_settings(results, axes, metric, best='max', limit=None):
  """[(cell, chosen, final)] for each cell of the axes other than `axes` and the seed (the first
  `limit`): the values of `axes` tuned by the series rule, and the seed mean of the metric's final
  value there."""
  cells = [a for a in results.axis_names if a != 'seed' and a not in axes]
  out = []
  for index in itertools.islice(itertools.product(*[range(len(results.coords[a])) for a in cells]), limit):
    cell = {a: results_lib.parse_coord(results.coords[a][i]) for a, i in zip(cells, index)}
    values, chosen = tuned(results, cell, metric, best)
    keep = [a for a in chosen if a in axes]
    final = stats._nan_quiet(np.nanmean, values[..., -1])
    out.append((cell, {a: chosen[a] for a in keep}, float(final)))
  return out
