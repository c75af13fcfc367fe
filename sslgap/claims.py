"""The paper's claims as data, checked against a result grid with bootstrap intervals over seeds.

A config states each claim next to its sentence, in `config.claims` (a tuple of dicts), so the
grid it produces (its config_json) carries them. A claim compares series: selections of the grid
such as {'dataset_size': 8192}. Axes a series does not fix, besides the seed, are tuned per
series: the value whose seed-mean curve of the metric is best on average over training (the
rule the learning-curve figures use). Seeds are paired across series (the same seed index is the
same initialisation), so resamples draw the same seeds for every series.

Kinds (fields besides `kind`, `text`, `metric`, and `best`: 'max' or 'min' for tuning):
  faster   a, b, target [, above, x='steps'|'compute']: a reaches the target in fewer steps (or
           examples) than b. Statistic: log2 of median(b) / median(a), times censored at +inf.
  as_fast  a, b, target, tolerance [, above, x]: a and b reach the target equally fast: the log2
           ratio of their median times lies within +-tolerance.
  better   a, b [, at='final'|'mean'|step, margin]: a's metric beats b's (higher, or lower
           with best='min') by more than margin. Statistic: the difference of seed means.
  closes   a, b, region, tolerance: somewhere in the region (axis -> [op, value]) a and b are
           within tolerance: at the region's cell where b is best, |mean a - mean b| < tolerance.
  slope    series, x_axis, range [, x_range]: the log-log slope of the seed median of the final
           metric against x_axis lies in range.
  argmax   a, b, axis [, direction='larger'|'smaller'|'same', tolerance]: the axis value that is best
           for b is larger (smaller; within +-tolerance in log2 for 'same') than the one best for
           a. Statistic: log2(best_b / best_a).
  trend    a, b, x_axis [, direction='increasing']: the gap a - b grows along x_axis.
           Statistic: the least-squares slope of the gap against the axis position.

A verdict is `agrees` when the whole 95% interval of the statistic lies on the claim's side of
its threshold, `disagrees` when it lies wholly on the other side, and `inconclusive` otherwise.

`per: axis` (and optionally `per_values`) checks a claim separately at each value of an axis that
its series do not fix (say at every learning rate), one verdict each.
"""

import dataclasses
import math

import numpy as np

from sslgap import results as results_lib
from sslgap import stats

AGREES, DISAGREES, INCONCLUSIVE = 'agrees', 'disagrees', 'inconclusive'


@dataclasses.dataclass
class Verdict:
  claim: dict
  verdict: str
  statistic: str  # what the interval is of
  estimate: float
  low: float
  high: float
  series: dict  # {label: (low, mid, high)} of each series' own number
  unit: str = ''

  def describe(self):
    """One line: the numbers and their intervals, then the verdict."""
    parts = [f'{name}: {fmt_interval(*values, self.unit)}' for name, values in self.series.items()]
    parts.append(f'{self.statistic} {fmt_interval(self.low, self.estimate, self.high)}')
    return '; '.join(parts)


def fmt(value, unit=''):
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return 'n/a'
  if math.isinf(value):
    return '> last step' if value > 0 and unit == 'steps' else ('inf' if value > 0 else '-inf')
  if unit in ('steps', 'examples') or abs(value) >= 1000:
    return f'{value:,.3g}' if abs(value) >= 1e5 else f'{value:,.0f}'
  return f'{value:.3g}'


def fmt_interval(low, mid, high, unit=''):
  return f'{fmt(mid, unit)} [{fmt(low, unit)}, {fmt(high, unit)}]'


def _within(low, high, tolerance):
  """An equivalence: agrees when the interval lies within +-tolerance, disagrees when it misses it."""
  if np.isnan(low) or np.isnan(high):
    return INCONCLUSIVE
  if -tolerance <= low and high <= tolerance:
    return AGREES
  return DISAGREES if low > tolerance or high < -tolerance else INCONCLUSIVE


def _side(low, high, threshold, larger=True):
  if not (np.isfinite(low) or np.isfinite(high)) and np.isnan(low):
    return INCONCLUSIVE
  if larger:
    return AGREES if low > threshold else DISAGREES if high < threshold else INCONCLUSIVE
  return AGREES if high < threshold else DISAGREES if low > threshold else INCONCLUSIVE


# --- series -------------------------------------------------------------------------------------

def _score(curves, best):
  """How good each curve is: its mean over the evaluations (a diverged curve never wins)."""
  with np.errstate(invalid='ignore'):
    score = np.where(np.isnan(curves).any(axis=-1), np.nan, curves.mean(axis=-1))
  return score if best == 'max' else -score


def series(results, selection, metric, best='max', keep=()):
  """[..., seeds, E] of one series: results.sel(selection), other axes tuned on the seed mean
  (except `keep`, which stay in front, in their grid order)."""
  return tuned(results, selection, metric, best, keep)[0]


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


def tuned(results, selection, metric, best='max', keep=(), tune_metric=None):
  """(values [..., seeds, E], chosen): like series(), and {axis: value} of the tuned axes where no
  axis is kept (else None). The metric may be a derived one (DERIVED). The tuned axes are chosen
  on tune_metric (default: tune_metric_for), by the curve best on average over training; a
  setting where some seed diverged never wins unless every setting has one."""
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
    judged, _ = _arranged(metric_values(sub, by), names, keep, tune)
    strict = _score(judged.mean(axis=-2), by_best)  # NaN if any seed diverged
    lenient = _score(stats._nan_quiet(np.nanmean, judged, axis=-2), by_best)
    score = np.where(np.all(np.isnan(strict), axis=-1, keepdims=True), lenient, strict)
    choice = np.argmax(np.where(np.isnan(score), -np.inf, score), axis=-1)
  chosen = None
  if not keep:
    index = np.unravel_index(int(choice), tuned_shape) if tune else ()
    chosen = {a: sub.coords[a][i].item() for a, i in zip(tune, index)}
  return np.take_along_axis(values, choice[..., None, None, None], axis=-3)[..., 0, :, :], chosen


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


def _at(values, at, eval_steps):
  if at == 'final':
    return values[..., -1]
  if at == 'mean':
    return values.mean(axis=-1)
  return values[..., list(eval_steps).index(int(at))]


def label(selection):
  """A selection in words: key=value, floats to 4 significant digits."""
  return ', '.join(f'{k}={_short(v)}' for k, v in selection.items())


def _short(value):
  return f'{value:.4g}' if isinstance(value, (float, np.floating)) else value


# --- kinds --------------------------------------------------------------------------------------

def _faster(r, c, idx):
  above = c.get('above', c.get('best', 'max') == 'max')
  x = c.get('x', 'steps')
  times = []
  for key in ('a', 'b'):
    v = series(r, c[key], c['metric'], c.get('best', 'max'))  # [S, E]
    t = stats.first_step(v, r.eval_steps, c['target'], above)  # [S]
    if x == 'compute':
      seen = r.examples_at(dict(c[key]))
      t = np.where(np.isfinite(t), np.interp(t, r.eval_steps, seen), np.inf)
    times.append(t)
  series_ci = {label(c[key]): stats.bootstrap(t, stats.censored_median, indices=idx) for key, t in zip('ab', times)}

  equal = c['kind'] == 'as_fast'

  def ratio(pair, axis=-1):
    a, b = np.median(pair[0], axis=axis), np.median(pair[1], axis=axis)
    with np.errstate(invalid='ignore', divide='ignore'):
      out = np.log2(b / a)
    # Neither reached the target: no evidence that one is faster, nor that they are alike.
    return np.where(np.isnan(out), np.inf if equal else 0.0, out)

  low, mid, high = stats.bootstrap(np.stack(times), ratio, indices=idx)
  unit = 'steps' if x == 'steps' else 'examples'
  if equal:
    verdict = INCONCLUSIVE if np.isinf(mid) and all(np.isinf(np.median(t)) for t in times) else _within(
        low, high, c['tolerance'])
  else:
    verdict = _side(low, high, 0.0)
  return (verdict, f'log2 of the {x} ratio b/a', mid, low, high, series_ci, unit)


def _better(r, c, idx):
  best = c.get('best', 'max')
  at = c.get('at', 'final')
  values = [_at(series(r, c[key], c['metric'], best), at, r.eval_steps) for key in ('a', 'b')]  # [S] each
  series_ci = {label(c[key]): stats.bootstrap(v, np.nanmean, indices=idx) for key, v in zip('ab', values)}
  sign = 1.0 if best == 'max' else -1.0
  low, mid, high = stats.bootstrap(sign * (values[0] - values[1]), np.nanmean, indices=idx)
  return (_side(low, high, c.get('margin', 0.0)), f'{c["metric"]} advantage of a', mid, low, high, series_ci, '')


def _in_region(values, condition):
  op, bound = condition
  return {'<=': values <= bound * (1 + 1e-9), '>=': values >= bound * (1 - 1e-9), '==': np.isclose(values, bound),
          '<': values < bound, '>': values > bound}[op]


def _closes(r, c, idx):
  best = c.get('best', 'max')
  region = dict(c['region'])
  keep = list(region)
  a = _at(series(r, c['a'], c['metric'], best, keep=keep), 'final', r.eval_steps)  # [*region axes, S]
  b = _at(series(r, c['b'], c['metric'], best, keep=keep), 'final', r.eval_steps)
  sub = r.sel(**c['b'])
  mask = np.ones(a.shape[:-1], bool)
  for i, axis in enumerate(keep):
    inside = _in_region(np.asarray(sub.coords[axis], float), region[axis])
    shape = [1] * len(keep)
    shape[i] = -1
    mask = mask & inside.reshape(shape)
  if not mask.any():
    raise ValueError(f'claim {c.get("text", "")!r}: no grid cell lies in the region {region}')
  score = np.where(mask, np.nanmean(b, axis=-1) * (1 if best == 'max' else -1), -np.inf)
  cell = np.unravel_index(int(np.argmax(score)), score.shape)
  where = {axis: float(sub.coords[axis][i]) for axis, i in zip(keep, cell)}
  series_ci = {f'{label(c[key])} at {label(where)}': stats.bootstrap(v[cell], np.nanmean, indices=idx)
               for key, v in (('a', a), ('b', b))}
  low, mid, high = stats.bootstrap(a[cell] - b[cell], lambda x, axis: np.abs(np.nanmean(x, axis=axis)), indices=idx)
  return (_side(low, high, c['tolerance'], larger=False), '|gap|', mid, low, high, series_ci, '')


def _slope(r, c, idx):
  axis = c['x_axis']
  v = _at(series(r, c['series'], c['metric'], c.get('best', 'max'), keep=[axis]), 'final', r.eval_steps)  # [X, S]
  x = np.asarray(r.sel(**c['series']).coords[axis], float)
  lo, hi = c.get('x_range', [x.min(), x.max()])
  use = (x >= lo) & (x <= hi) & (x > 0)
  v, x = v[use], x[use]

  low, mid, high = _slope_bootstrap(v, x, idx)
  lo_ok, hi_ok = c['range']
  verdict = AGREES if lo_ok <= low and high <= hi_ok else DISAGREES if high < lo_ok or low > hi_ok else INCONCLUSIVE
  return (verdict, f'log-log slope against {axis}', mid, low, high, {}, '')


def _slope_bootstrap(v, x, idx):
  """Percentile interval of the log-log slope of the seed median of v [X, S] against x [X]."""
  mid = float(stats.loglog_slope(x, np.median(v, axis=-1)))
  resampled = v[:, idx]  # [X, n, S]
  slopes = stats.loglog_slope(x, np.median(resampled, axis=-1), axis=0)  # [n]
  low, high = stats._nan_quiet(np.nanpercentile, slopes, [2.5, 97.5])
  return low, mid, high


def _argmax(r, c, idx):
  axis = c['axis']
  best = c.get('best', 'max')
  coords = np.asarray(r.sel(**c['a']).coords[axis], float)
  # The mean over training by default: the final value saturates (ties) once several settings learn.
  values = [_at(series(r, c[key], c['metric'], best, keep=[axis]), c.get('at', 'mean'), r.eval_steps)
            for key in ('a', 'b')]  # [X, S] each
  sign = 1.0 if best == 'max' else -1.0

  def best_value(v, axis_=-1):
    means = stats._nan_quiet(np.nanmean, v, axis=axis_) * sign  # [X, ...]
    return np.log2(coords[np.argmax(np.where(np.isnan(means), -np.inf, means), axis=0)])

  mids = [best_value(v) for v in values]
  resampled = [v[:, idx] for v in values]  # [X, n, S]
  diffs = best_value(resampled[1]) - best_value(resampled[0])
  low, high = np.percentile(diffs, [2.5, 97.5])
  series_ci = {label(c[key]): (2**np.percentile(best_value(rs), 2.5), 2**m, 2**np.percentile(best_value(rs), 97.5))
               for key, m, rs in zip('ab', mids, resampled)}
  direction = c.get('direction', 'larger')
  verdict = _within(low, high, c.get('tolerance', 0.5)) if direction == 'same' else _side(low, high, 0.0,
                                                                                        direction == 'larger')
  return (verdict, f'log2 of best {axis}, b over a', mids[1] - mids[0], low, high, series_ci, '')


def _trend(r, c, idx):
  axis = c['x_axis']
  best = c.get('best', 'max')
  a = _at(series(r, c['a'], c['metric'], best, keep=[axis]), c.get('at', 'final'), r.eval_steps)
  b = _at(series(r, c['b'], c['metric'], best, keep=[axis]), c.get('at', 'final'), r.eval_steps)
  gap = (a - b) * (1.0 if best == 'max' else -1.0)  # [X, S]
  position = np.arange(gap.shape[0], dtype=float)

  def slope(means):
    centred = position - position.mean()
    return (centred[:, None] * (means - means.mean(axis=0))).sum(axis=0) / (centred**2).sum()

  mid = float(slope(np.nanmean(gap, axis=-1)[:, None])[0])
  slopes = slope(stats._nan_quiet(np.nanmean, gap[:, idx], axis=-1))  # [n]
  low, high = np.percentile(slopes, [2.5, 97.5])
  larger = c.get('direction', 'increasing') == 'increasing'
  gaps = {f'gap at {axis}={_short(v)}': stats.bootstrap(gap[i], np.nanmean, indices=idx)
          for i, v in enumerate(r.sel(**c['a']).coords[axis].tolist())}
  return (_side(low, high, 0.0, larger), f'slope of the gap along {axis}', mid, low, high, gaps, '')


KINDS = {'faster': _faster, 'as_fast': _faster, 'better': _better, 'closes': _closes, 'slope': _slope, 'argmax': _argmax,
         'trend': _trend}


def evaluate(claim, results, n=2000, seed=0):
  """The Verdict of one claim on a result grid (95% percentile bootstrap over paired seeds)."""
  claim = dict(claim)
  if claim.get('kind') not in KINDS:
    raise ValueError(f'claim {claim.get("text", "")!r}: unknown kind {claim.get("kind")!r}; known: {sorted(KINDS)}')
  if 'seed' not in results.axis_names:
    raise ValueError('claims need a seed axis to resample')
  idx = stats.resample_indices(len(results.coords['seed']), n, seed)
  verdict, statistic, mid, low, high, series_ci, unit = KINDS[claim['kind']](results, claim, idx)
  return Verdict(claim, verdict, statistic, float(mid), float(low), float(high),
                 {k: tuple(float(x) for x in v) for k, v in series_ci.items()}, unit)


def expand(claim, results):
  """The claim, or with `per` one claim for each value of that axis (text suffixed with it)."""
  claim = dict(claim)
  axis = claim.pop('per', None)
  values = claim.pop('per_values', None)
  if axis is None:
    return [claim]
  if axis not in results.axis_names:
    raise ValueError(f'claim {claim.get("text", "")!r}: per={axis!r} is not an axis of the grid')
  values = values if values is not None else [results_lib.parse_coord(v) for v in results.coords[axis]]
  out = []
  for value in values:
    one = dict(claim, text=f'{claim.get("text", "")} [{axis} = {_short(value)}]', stated=claim.get('text', ''))
    for key in ('a', 'b', 'series'):
      if key in one and axis not in one[key]:
        one[key] = dict(one[key], **{axis: value})
    out.append(one)
  return out


def evaluate_all(results, n=2000, seed=0):
  """Verdicts of every claim the grid's config carries (a claim with `per` gives several)."""
  return [evaluate(c, results, n, seed) for claim in results.config.get('claims') or []
          for c in expand(claim, results)]
