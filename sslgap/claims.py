"""The paper's claims as data, checked against a result grid with bootstrap intervals over seeds.

A config states each claim next to its sentence, in `config.claims` (a tuple of dicts), so the
grid it produces (its config_json) carries them. A claim compares series: selections of the grid
such as {'dataset_size': 8192}, whose other axes are tuned by the rule of sslgap.series (the
one the figures and `sslgap.show` use). Seeds are paired across series (the same seed index is the
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

A kind is one class in KINDS: its `evaluate` returns a Measured record and its `describe` says the
claim in words; `@claims.register` adds one (see README, "A claim kind").
"""

import dataclasses
import math

import numpy as np

from sslgap import registry
from sslgap import results as results_lib
from sslgap import stats
from sslgap.errors import ResultsError
from sslgap.series import DERIVED, label, metric_values, series, short, tune_metric_for, tuned  # noqa: F401

AGREES, DISAGREES, INCONCLUSIVE = 'agrees', 'disagrees', 'inconclusive'


@dataclasses.dataclass
class Measured:
  """What a kind measured: the verdict, the statistic (what the interval is of) with its estimate
  and 95% interval, each series' own number {label: (low, mid, high)} and the unit of those."""
  verdict: str
  statistic: str
  estimate: float
  low: float
  high: float
  series: dict = dataclasses.field(default_factory=dict)
  unit: str = ''
  flags: tuple = ()  # FLAGS that qualify the verdict, each with its reason: ((flag, why), ...)


# What qualifies a verdict, so that a count of verdicts does not flatter: a claim that holds whatever the
# runs do, one decided where both series are saturated, an optimum at the edge of its grid, a time to a
# target that neither series reached.
BY_CONSTRUCTION, CEILING, GRID_EDGE, NOT_REACHED = 'by construction', 'at the ceiling', 'grid edge', 'not reached'
FLAGS = (BY_CONSTRUCTION, CEILING, GRID_EDGE, NOT_REACHED)
SATURATED = 0.995  # a seed-mean final accuracy at least this is at the ceiling


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
  flags: tuple = ()  # ((flag, why), ...): see FLAGS
  cross_fitted: tuple = None  # (in-sample, cross-fitted) verdicts on half the seeds: see evaluate()

  @classmethod
  def of(cls, claim, m):
    return cls(claim, m.verdict, m.statistic, float(m.estimate), float(m.low), float(m.high),
               {k: tuple(float(x) for x in v) for k, v in m.series.items()}, m.unit, tuple(m.flags))

  @property
  def flag_names(self):
    return tuple(f for f, _ in self.flags)

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


def _at(values, at, eval_steps):
  if at == 'final':
    return values[..., -1]
  if at == 'mean':
    return values.mean(axis=-1)
  return values[..., list(eval_steps).index(int(at))]


def _selection(s):
  return label(dict(s))


def _ceiling(c, finals):
  """The CEILING flag when every series' seed-mean final accuracy is saturated (a claim about the end
  cannot tell them apart there; a time to a target can)."""
  if not c.get('metric', '').endswith('_acc') or c.get('best', 'max') != 'max':
    return ()
  means = [float(stats._nan_quiet(np.nanmean, f)) for f in finals]
  if all(m >= SATURATED for m in means):
    return ((CEILING, f'both series end at {", ".join(f"{m:.3f}" for m in means)} {c["metric"]}'),)
  return ()


def _per_step_cost(r, c):
  """How many times more examples b processes per step than a (1.0 when the grid cannot say)."""
  try:
    seen = [r.examples_at(dict(c[key])) for key in ('a', 'b')]
  except (ResultsError, ValueError):
    return 1.0
  last = [float(x[-1]) for x in seen]
  return last[1] / last[0] if last[0] > 0 else 1.0


def _short_values(coords):
  return f'{short(float(coords[0]))} to {short(float(coords[-1]))}'


def _goal(c):
  return f'{c.get("metric", "")} {">=" if c.get("above", c.get("best", "max") == "max") else "<="} {c["target"]}'


# --- kinds --------------------------------------------------------------------------------------

class ClaimKind:
  """A kind of claim. `name` is its config `kind`; `evaluate(results, claim, idx)` returns a
  Measured (idx: [n, seeds] bootstrap resamples of the seed indices, paired across series);
  `describe(claim)` says what is tested, in words, for the report."""
  name = None
  tune_on = None  # for cross-fitting: other seeds of the grid, on which series() tunes

  def series(self, results, selection, metric, best='max', keep=()):
    """[..., seeds, E] of one series, its other axes tuned by the rule of sslgap.series (on tune_on's
    seeds when cross-fitting)."""
    return series(results, selection, metric, best, keep, tune_on=self.tune_on)

  def values(self, results, claim, key, at, keep=()):
    """[..., seeds] of the series claim[key] of the claim's metric at `at` ('final', 'mean' or a step)."""
    return _at(self.series(results, claim[key], claim['metric'], claim.get('best', 'max'), keep), at,
               results.eval_steps)

  def evaluate(self, results, claim, idx):
    raise NotImplementedError

  def describe(self, claim):
    raise NotImplementedError


def _check_kind(cls):
  if not issubclass(cls, ClaimKind):
    return ['must subclass sslgap.claims.ClaimKind']
  return [f'needs a method {m}' for m in ('evaluate', 'describe') if not registry.defines(cls, m, ClaimKind)]


KINDS = registry.Registry('claim kind', 'name', _check_kind, named_by="the claims' `kind`")
register = KINDS.register


@register
class Faster(ClaimKind):
  name = 'faster'
  equal = False  # as_fast: the same times within a tolerance

  def evaluate(self, r, c, idx):
    above = c.get('above', c.get('best', 'max') == 'max')
    x = c.get('x', 'steps')
    times = []
    for key in ('a', 'b'):
      v = self.series(r, c[key], c['metric'], c.get('best', 'max'))  # [S, E]
      t = stats.first_step(v, r.eval_steps, c['target'], above)  # [S]
      if x == 'compute':
        seen = r.examples_at(dict(c[key]))
        t = np.where(np.isfinite(t), np.interp(t, r.eval_steps, seen), np.inf)
      times.append(t)
    series_ci = {label(c[key]): stats.bootstrap(t, stats.censored_median, indices=idx) for key, t in zip('ab', times)}
    equal = self.equal

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
    flags = ()
    if all(np.isinf(np.median(t)) for t in times):
      flags += ((NOT_REACHED, f'neither series reaches {_goal(c)} (median over seeds)'),)
    cost = _per_step_cost(r, c) if x == 'compute' else 1.0
    if cost >= 2 and not equal:
      flags += ((BY_CONSTRUCTION, f'b processes {cost:.3g}x the examples of a in the same steps: a wins in compute '
                 'unless it needs that many times more steps'),)
    return Measured(verdict, f'log2 of the {x} ratio b/a', mid, low, high, series_ci, unit, flags)

  def describe(self, c):
    return (f'[{_selection(c["a"])}] reaches {_goal(c)} in fewer {c.get("x", "steps")} than [{_selection(c["b"])}] '
            '(statistic: log2 of the ratio of median times, b over a)')


@register
class AsFast(Faster):
  name = 'as_fast'
  equal = True

  def describe(self, c):
    return (f'[{_selection(c["a"])}] and [{_selection(c["b"])}] reach {_goal(c)} equally fast: the log2 ratio of '
            f'their median {c.get("x", "steps")} lies within +-{c["tolerance"]}')


@register
class Better(ClaimKind):
  name = 'better'

  def evaluate(self, r, c, idx):
    best = c.get('best', 'max')
    at = c.get('at', 'final')
    values = [self.values(r, c, key, at) for key in ('a', 'b')]  # [S] each
    series_ci = {label(c[key]): stats.bootstrap(v, np.nanmean, indices=idx) for key, v in zip('ab', values)}
    sign = 1.0 if best == 'max' else -1.0
    low, mid, high = stats.bootstrap(sign * (values[0] - values[1]), np.nanmean, indices=idx)
    flags = _ceiling(c, values) if at == 'final' else ()
    return Measured(_side(low, high, c.get('margin', 0.0)), f'{c["metric"]} advantage of a', mid, low, high,
                    series_ci, flags=flags)

  def describe(self, c):
    at = c.get('at', 'final')
    where = 'at the end' if at == 'final' else 'on average over training' if at == 'mean' else f'at step {at}'
    sense = 'lower' if c.get('best') == 'min' else 'higher'
    return (f'{c.get("metric", "")} of [{_selection(c["a"])}] is {sense} than of [{_selection(c["b"])}] {where}'
            + (f' by more than {c["margin"]}' if c.get('margin') else ''))


def _in_region(values, condition):
  op, bound = condition
  return {'<=': values <= bound * (1 + 1e-9), '>=': values >= bound * (1 - 1e-9), '==': np.isclose(values, bound),
          '<': values < bound, '>': values > bound}[op]


@register
class Closes(ClaimKind):
  name = 'closes'

  def evaluate(self, r, c, idx):
    best = c.get('best', 'max')
    region = dict(c['region'])
    keep = list(region)
    a, b = (self.values(r, c, key, 'final', keep) for key in ('a', 'b'))  # [*region axes, S] each
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
    low, mid, high = stats.bootstrap(a[cell] - b[cell], lambda x, axis: np.abs(np.nanmean(x, axis=axis)),
                                     indices=idx)
    return Measured(_side(low, high, c['tolerance'], larger=False), '|gap|', mid, low, high, series_ci,
                    flags=_ceiling(c, [a[cell], b[cell]]))

  def describe(self, c):
    region = ', '.join(f'{k} {op} {v}' for k, (op, v) in dict(c['region']).items())
    return (f'where {region}, at the cell best for [{_selection(c["b"])}], |{c.get("metric", "")} of a - b| < '
            f'{c["tolerance"]} (a = [{_selection(c["a"])}])')


@register
class Slope(ClaimKind):
  name = 'slope'

  def evaluate(self, r, c, idx):
    axis = c['x_axis']
    v = self.values(r, c, 'series', 'final', keep=[axis])  # [X, S]
    x = np.asarray(r.sel(**c['series']).coords[axis], float)
    lo, hi = c.get('x_range', [x.min(), x.max()])
    use = (x >= lo) & (x <= hi) & (x > 0)
    v, x = v[use], x[use]
    mid = float(stats.loglog_slope(x, np.median(v, axis=-1)))
    slopes = stats.loglog_slope(x, np.median(v[:, idx], axis=-1), axis=0)  # [n] over resamples [X, n, S]
    low, high = stats._nan_quiet(np.nanpercentile, slopes, [2.5, 97.5])
    lo_ok, hi_ok = c['range']
    verdict = AGREES if lo_ok <= low and high <= hi_ok else DISAGREES if high < lo_ok or low > hi_ok else INCONCLUSIVE
    return Measured(verdict, f'log-log slope against {axis}', mid, low, high)

  def describe(self, c):
    return (f'the log-log slope of the seed-median final {c.get("metric", "")} of [{_selection(c["series"])}] '
            f'against {c["x_axis"]} lies in {list(c["range"])}')


@register
class Argmax(ClaimKind):
  name = 'argmax'

  def evaluate(self, r, c, idx):
    axis = c['axis']
    best = c.get('best', 'max')
    coords = np.asarray(r.sel(**c['a']).coords[axis], float)
    # The mean over training by default: the final value saturates (ties) once several settings learn.
    values = [self.values(r, c, key, c.get('at', 'mean'), keep=[axis]) for key in ('a', 'b')]  # [X, S] each
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
    edges = np.log2(coords[[0, -1]]) if len(coords) > 1 else np.log2(coords)
    at_edge = [label(c[key]) for key, m in zip('ab', mids) if np.isclose(m, edges).any()]
    flags = ((GRID_EDGE, f'the best {axis} of {" and ".join(at_edge)} is at the edge of its grid '
              f'({_short_values(coords)}): the optimum may lie beyond it'),) if at_edge else ()
    return Measured(verdict, f'log2 of best {axis}, b over a', mids[1] - mids[0], low, high, series_ci, flags=flags)

  def describe(self, c):
    direction = c.get('direction', 'larger')
    relation = f'within a factor 2^{c.get("tolerance", 0.5)} of' if direction == 'same' else f'{direction} than'
    return (f'the {c["axis"]} best for [{_selection(c["b"])}] is {relation} the one best for '
            f'[{_selection(c["a"])}] ({c.get("metric", "")})')


@register
class Trend(ClaimKind):
  name = 'trend'

  def evaluate(self, r, c, idx):
    axis = c['x_axis']
    best = c.get('best', 'max')
    a, b = (self.values(r, c, key, c.get('at', 'final'), keep=[axis]) for key in ('a', 'b'))
    gap = (a - b) * (1.0 if best == 'max' else -1.0)  # [X, S]
    position = np.arange(gap.shape[0], dtype=float)

    def slope(means):
      centred = position - position.mean()
      return (centred[:, None] * (means - means.mean(axis=0))).sum(axis=0) / (centred**2).sum()

    mid = float(slope(np.nanmean(gap, axis=-1)[:, None])[0])
    slopes = slope(stats._nan_quiet(np.nanmean, gap[:, idx], axis=-1))  # [n]
    low, high = np.percentile(slopes, [2.5, 97.5])
    larger = c.get('direction', 'increasing') == 'increasing'
    gaps = {f'gap at {axis}={short(v)}': stats.bootstrap(gap[i], np.nanmean, indices=idx)
            for i, v in enumerate(r.sel(**c['a']).coords[axis].tolist())}
    return Measured(_side(low, high, 0.0, larger), f'slope of the gap along {axis}', mid, low, high, gaps)

  def describe(self, c):
    return (f'the {c.get("metric", "")} gap [{_selection(c["a"])}] - [{_selection(c["b"])}] is '
            f'{c.get("direction", "increasing")} along {c["x_axis"]}')


# --- checking a grid ------------------------------------------------------------------------------

def describe(claim):
  """The claim in words, from its fields (its kind's name if the kind is unknown)."""
  kind = KINDS.get(claim['kind'])
  return kind().describe(claim) if kind else str(claim['kind'])


def evaluate(claim, results, n=2000, seed=0, cross_fit=False):
  """The Verdict of one claim on a result grid (95% percentile bootstrap over paired seeds).

  cross_fit (4 seeds or more): also the verdict on the odd seeds with the tuned axes chosen on the
  even ones, beside the verdict on the odd seeds tuned on themselves (Verdict.cross_fitted, "in-sample
  -> cross-fitted"): tuning on the metric the interval is computed on biases it optimistically, and
  where the two differ, that bias decided the verdict."""
  claim = dict(claim)
  if claim.get('kind') not in KINDS:
    raise ValueError(f'claim {claim.get("text", "")!r}: unknown kind {claim.get("kind")!r}; known: {sorted(KINDS)}')
  if 'seed' not in results.axis_names:
    raise ValueError('claims need a seed axis to resample')
  kind = KINDS[claim['kind']]
  idx = stats.resample_indices(len(results.coords['seed']), n, seed)
  verdict = Verdict.of(claim, kind().evaluate(results, claim, idx))
  seeds = [results_lib.parse_coord(v) for v in results.coords['seed']]
  if cross_fit and len(seeds) >= 4:
    tune_half, held_half = results.sel(seed=seeds[0::2]), results.sel(seed=seeds[1::2])
    held_idx = stats.resample_indices(len(seeds[1::2]), n, seed)
    crossed = kind()
    crossed.tune_on = tune_half
    try:
      verdict.cross_fitted = (kind().evaluate(held_half, claim, held_idx).verdict,
                              crossed.evaluate(held_half, claim, held_idx).verdict)
    except Exception:  # noqa: BLE001 - a claim half the seeds cannot decide keeps its verdict
      verdict.cross_fitted = None
  return verdict


def expand(claim, results):
  """The claim, or with `per` one claim for each value of that axis (text suffixed with it)."""
  claim = dict(claim)
  axis = claim.pop('per', None)
  values = claim.pop('per_values', None)
  if axis is None:
    return [claim]
  if axis not in results.axis_names:
    raise ValueError(f'claim {claim.get("text", "")!r}: per={axis!r} is not an axis of the grid')
  out = []
  for value in checked_values(values, results.coords[axis]):
    one = dict(claim, text=f'{claim.get("text", "")} [{axis} = {short(value)}]', stated=claim.get('text', ''),
               checked_at=cited_value(value))
    for key in ('a', 'b', 'series'):
      if key in one and axis not in one[key]:
        one[key] = dict(one[key], **{axis: value})
    out.append(one)
  return out


def checked_values(per_values, axis_values):
  """The values a claim with `per` is checked at: its per_values, else every value of the axis (as
  stored in a grid: sslgap.results.coord_array)."""
  return list(per_values) if per_values is not None else [results_lib.parse_coord(v) for v in axis_values]


def cited_value(value):
  """How a note cites the value a claim was checked at (sslgap.notes: [[name@VALUE]]): a number as the
  report prints it (0.36, 1e-03 as 0.001), a tuple as its entries joined by commas (256,online)."""
  if isinstance(value, (tuple, list)):
    return ','.join(cited_value(v) for v in value)
  return str(short(value))


def evaluate_all(results, n=2000, seed=0, cross_fit=False):
  """Verdicts of every claim the grid's config carries (a claim with `per` gives several)."""
  return [evaluate(c, results, n, seed, cross_fit) for claim in results.config.get('claims') or []
          for c in expand(claim, results)]
