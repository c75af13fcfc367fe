"""The paper's claims as data, each decided on a result grid by an interval that holds its level.

A config states each claim next to its sentence, in `config.claims` (a tuple of dicts), so the grid it
produces (its config_json) carries them. A claim compares series: selections of the grid such as
{'dataset_size': 8192}, whose other axes are tuned by the rule of sslgap.series (the one the figures and
`sslgap.show` use).

**One number per seed.** Every kind reduces each seed to one number of its statistic, oriented so that
a positive number goes the paper's way, paired across the claim's series (the same seed index is the
same initialisation and data). The claim's 95% interval is Student's t over those numbers
(sslgap.stats.t_interval): exact for normal seed values at any count from 2, conservative for heavy
tails, where a percentile bootstrap over 2 to 8 seeds covers 52% to 88%. tests/test_calibration.py
simulates each kind's coverage (normal, heavy-tailed and censored seeds) at the counts presets use.

**Tuning inside the interval.** Axes a series does not fix (a learning-rate grid) are tuned. The seeds
are split into two halves (even and odd positions) and each half's numbers come from the settings
tuned on the other half (cross-fitting): the interval is not flattered by the setting that was lucky
on the very seeds it is computed from. The in-sample numbers (tuned on all seeds) are kept beside it,
for the report's count of what cross-fitting changed.

Kinds (fields besides kind, text, metric and best ('max'/'min'); a_label and b_label name the series in
words; min_effect is the smallest effect of interest in the statistic's units, min_effect_source where
it comes from):
  faster   a, b, target [, above, x='steps'|'compute']: a reaches the target sooner than b. Per seed:
           log2 of b's crossing step over a's, each interpolated between evaluations and restricted to
           the horizon (a run that never reaches the target counts as the last step: no seed is dropped,
           and the effect can only be understated); each series says how many seeds never reached it.
  as_fast  a, b, target, and margin (log2) or baseline={'a': .., 'b': ..} [, margin_fraction=0.5]: a and
           b reach the target equally fast: their log2 ratio lies within +-margin, or within a share of
           the baseline's own gap measured on the same seeds (a difference of differences).
  better   a, b [, at='final'|'mean'|step]: a's metric beats b's. Per seed: a - b (b - a, best='min').
  closes   a, b, region, baseline [, margin_fraction=0.5]: at the region's cell best for b (chosen on the
           other half of the seeds), the gap a - b is below margin_fraction of the gap at the baseline
           cell (the default). Per seed: margin_fraction x baseline gap - remaining gap.
  slope    series, x_axis, at_most or at_least [, x_range]: the log-log slope of the final metric against
           x_axis is at most (at least) the bound. Per seed: the seed's least-squares slope.
  argmax   a, b, axis [, direction='larger'|'smaller'|'same', margin]: the axis value best for b is larger
           (smaller; within +-margin in log2 for 'same') than the one best for a. Per seed: log2 of b's
           best value over a's, each refined by a parabola through the seed's best value and its neighbours.
  trend    a, b, x_axis [, direction='increasing', x_values]: the gap a - b grows along x_axis. Per seed:
           the least-squares slope of the seed's gap against the axis position.

**Outcomes.** reproduced: the interval lies on the paper's side of 0. opposite: it lies on the other
side. smaller than the paper's: it excludes min_effect, so whatever effect there is, it is below what the
paper shows. undetermined, with its reason: underpowered (the interval spans 0 and min_effect; the
seeds that would decide it are estimated), censored (most seeds never reached the target, or too many
did not for a bound on the effect), or a flag. A flag qualifies any outcome, which then is undetermined:
at the ceiling (every metric the claim reads is saturated at the end), grid edge (a tuned value at an end
of its grid), lr not tuned (one learning rate, where the paper's claim is not at a fixed one: fixed_lr=True
says it is), by construction (a compute claim won by processing fewer examples per step), no baseline gap
(an equivalence against a baseline that shows no gap itself).

`per: axis` (and optionally `per_values`) checks a claim separately at each value of an axis that its
series do not fix (say at every learning rate), one verdict each.

A kind is one class in KINDS: `seed_values(results, claim)` returns a SeedValues, `describe(claim)` says
the claim in words; `@claims.register` adds one (see README, "A claim kind").
"""

import dataclasses
import math

import numpy as np

from sslgap.base import registry
from sslgap.science import results as results_lib
from sslgap.science import stats
from sslgap.errors import ResultsError
from sslgap.science.series import DERIVED, label, metric_values, series, short, tune_metric_for, tuned  # noqa: F401
from sslgap.science.series import tuned_with_edges

LEVEL = 0.95
REPRODUCED, SMALLER, OPPOSITE, UNDETERMINED = 'reproduced', "smaller than the paper's", 'opposite', 'undetermined'
OUTCOMES = (REPRODUCED, SMALLER, OPPOSITE, UNDETERMINED)
ERROR = 'error'  # the claim could not be evaluated

# Why an outcome is undetermined: the interval itself, or a flag that qualifies whatever it says.
UNDERPOWERED, CENSORED = 'underpowered', 'censored'
BY_CONSTRUCTION, CEILING, GRID_EDGE, LR_NOT_TUNED, NO_BASELINE = (
    'by construction', 'at the ceiling', 'grid edge', 'lr not tuned', 'no baseline gap')
FLAGS = (BY_CONSTRUCTION, CEILING, GRID_EDGE, LR_NOT_TUNED, NO_BASELINE)
REASONS = (UNDERPOWERED, CENSORED) + FLAGS

SATURATED = 0.995  # a seed-mean final accuracy at least this is at the ceiling
# the fewest seeds a design confirms on (sslgap.design), and what a findings row should rest on to stand alone
CONFIRMATION_SEEDS = 16
MIN_SEEDS = 4  # tests/test_calibration.py: at 2 or 3 seeds heavily censored times cover only 93.3% or 93.6%
# Smallest effects of interest where a claim states none, fixed before any grid was read (our choice):
# a quarter faster (log2 1.25), 5 points of accuracy, a tenth of the other series' loss (or norm ratio).
DEFAULT_MIN_EFFECT = {'log2': math.log2(1.25), 'acc': 0.05, 'relative': 0.1}
MAX_CENSORED_FOR_A_BOUND = 0.25  # a restricted time understates the effect: no upper bound past this share


@dataclasses.dataclass
class SeedValues:
  """What a kind measured, one number per seed (NaN where a seed gives none, e.g. it diverged)."""
  values: np.ndarray  # [S]: the statistic per seed, positive in the paper's direction
  statistic: str  # what one value is, in words
  scale: str = 'difference'  # 'log2': the values are log2 ratios, said as "1.8x"
  series: dict = dataclasses.field(default_factory=dict)  # label -> [S] of each series' own number
  unit: str = ''  # of the series' numbers ('steps', 'examples')
  censored: dict = dataclasses.field(default_factory=dict)  # label -> seeds that never reached the target
  flags: tuple = ()  # ((flag, why), ...)
  edges: dict = dataclasses.field(default_factory=dict)  # label -> {axis: value} tuned at an end of its grid
  chosen: dict = dataclasses.field(default_factory=dict)  # label -> [{axis: value}] tuned (one per half)
  reference: float = float('nan')  # what a relative min_effect is a share of (the other series' mean)
  margin: np.ndarray = None  # [S] an equivalence's margin per seed (its baseline's gap x the fraction)
  baseline: np.ndarray = None  # [S] the baseline's own gap, which must be there for the margin to mean anything
  tuned_axes: tuple = ()  # the axes of >= 2 values the series tuned


def _joined(parts):
  """One SeedValues of several (the halves of a cross-fit), seed numbers concatenated."""
  first = parts[0]
  cat = lambda xs: None if xs[0] is None else np.concatenate([np.asarray(x, float) for x in xs])
  merged = dataclasses.replace(
      first, values=cat([p.values for p in parts]),
      series={k: cat([p.series[k] for p in parts]) for k in first.series},
      censored={k: sum(p.censored.get(k, 0) for p in parts) for k in first.censored},
      flags=tuple(dict.fromkeys(f for p in parts for f in p.flags)),
      edges={k: v for p in parts for k, v in p.edges.items()},
      chosen={k: [c for p in parts for c in p.chosen.get(k, [])] for k in first.chosen},
      reference=float(np.nanmean([p.reference for p in parts])) if any(np.isfinite(p.reference) for p in parts)
      else float('nan'),
      margin=cat([p.margin for p in parts]), baseline=cat([p.baseline for p in parts]),
      tuned_axes=tuple(dict.fromkeys(a for p in parts for a in p.tuned_axes)))
  return merged


@dataclasses.dataclass
class Verdict:
  claim: dict
  verdict: str  # an OUTCOME, or ERROR
  statistic: str  # what the interval is of
  estimate: float
  low: float
  high: float
  series: dict  # {label: (low, mean, high)} of each series' own number
  unit: str = ''
  flags: tuple = ()  # ((flag, why), ...): see FLAGS
  reason: str = ''  # why undetermined: UNDERPOWERED, CENSORED or a flag ('' otherwise)
  seeds: int = 0  # the seeds the interval is over
  sd: float = float('nan')  # their spread
  min_effect: float = float('nan')
  min_effect_source: str = ''
  seeds_needed: int = None  # to decide at min_effect with 80% power (underpowered claims)
  scale: str = 'difference'
  censored: dict = dataclasses.field(default_factory=dict)
  tuning: str = ''  # 'cross-fitted', 'fixed' (nothing to tune) or 'not tuned' (one lr)
  in_sample: tuple = None  # (outcome, low, mid, high) with the tuned axes chosen on all seeds
  margin: float = float('nan')  # an equivalence's margin (its mean over seeds)
  chosen: dict = dataclasses.field(default_factory=dict)  # label -> [{axis: value}] tuned
  interval_says: str = ''  # the outcome the interval gives before a flag qualifies it
  tuned_axes: tuple = ()  # the axes chosen per series (cross-fitted)
  edges: dict = dataclasses.field(default_factory=dict)  # label -> {axis: value} tuned at an end of its grid
  # Seeds of the grid that gave no number (a diverged run's NaN; a slope of fewer than two finite points): the
  # interval is over the others, and every sentence of the verdict says how many were left out.
  no_number: int = 0

  @property
  def seeds_counted(self):
    """The seeds the interval is over, as a report's column gives them: 175, or '175 of 177' where some gave none."""
    return f'{self.seeds} of {self.seeds + self.no_number}' if self.no_number else self.seeds

  @property
  def seeds_said(self):
    """The same in words: '175 of 177 seeds (2 gave no number: a diverged run, ...)'."""
    why = f' ({self.no_number} gave no number: a diverged run, or too few finite points)' if self.no_number else ''
    return f'{self.seeds_counted} seeds{why}'

  @property
  def flag_names(self):
    return tuple(f for f, _ in self.flags)

  def describe(self):
    """One line: each series' number, the statistic with its interval and seeds, what was tuned."""
    parts = [f'{name}: {fmt_interval(*values, self.unit)}'
             + (f' ({self.censored[name]} of {self.seeds} seeds never reached it)' if self.censored.get(name) else '')
             for name, values in self.series.items()]
    parts.append(f'{self.statistic} {fmt_interval(self.low, self.estimate, self.high)} over {self.seeds_said}'
                 + (f', within +-{fmt(self.margin)}' if np.isfinite(self.margin) else '')
                 + (f'; tuning {self.tuning}' if self.tuning else ''))
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


def _at(values, at, eval_steps):
  if at == 'final':
    return values[..., -1]
  if at == 'mean':
    return values.mean(axis=-1)
  return values[..., list(eval_steps).index(int(at))]


def _selection(s):
  return label(dict(s))


def _per_step_cost(r, c):
  """How many times more examples b processes per step than a (1.0 when the grid cannot say)."""
  try:
    seen = [r.examples_at(dict(c[key])) for key in ('a', 'b')]
  except (ResultsError, ValueError):
    return 1.0
  last = [float(x[-1]) for x in seen]
  return last[1] / last[0] if last[0] > 0 else 1.0


def _goal(c):
  return f'{c.get("metric", "")} {">=" if c.get("above", c.get("best", "max") == "max") else "<="} {c["target"]}'


def components(metric):
  """The recorded metrics a (derived) metric is made of, for the ceiling flag."""
  return {'overfit_acc': ('train_acc', 'test_acc'), 'overfit_loss': ('train_loss', 'test_loss')}.get(metric, (metric,))


# --- kinds --------------------------------------------------------------------------------------

class ClaimKind:
  """A kind of claim. `name` is its config `kind`; `seed_values(results, claim)` returns SeedValues (one
  number per seed, positive in the paper's direction); `describe(claim)` says what is tested, in words.
  equivalence: the claim is that there is no difference (SeedValues.margin bounds it)."""
  name = None
  equivalence = False
  tune_on = None  # cross-fitting: other seeds of the grid, on which the tuned axes are chosen

  def tuned(self, results, selection, metric, best='max', keep=()):
    """([..., seeds, E] of one series, its chosen settings, its settings at a grid edge), the other axes
    tuned by the rule of sslgap.series (on tune_on's seeds when cross-fitting)."""
    return tuned_with_edges(results, selection, metric, best, keep, tune_on=self.tune_on)

  def values(self, results, claim, key, at, keep=()):
    """[..., seeds] of the series claim[key] of the claim's metric at `at` ('final', 'mean' or a step)."""
    v, _, _ = self.tuned(results, claim[key], claim['metric'], claim.get('best', 'max'), keep)
    return _at(v, at, results.eval_steps)

  def min_effect(self, claim, measured):
    """The smallest effect of interest: the claim's own, else DEFAULT_MIN_EFFECT for its statistic."""
    if claim.get('min_effect') is not None:
      return float(claim['min_effect'])
    if measured.scale == 'log2':
      return DEFAULT_MIN_EFFECT['log2']
    if claim.get('metric', '').endswith('_acc'):
      return DEFAULT_MIN_EFFECT['acc']
    return DEFAULT_MIN_EFFECT['relative'] * abs(measured.reference) if np.isfinite(measured.reference) else float('nan')

  def seed_values(self, results, claim):
    raise NotImplementedError

  def describe(self, claim):
    raise NotImplementedError


def _check_kind(cls):
  if not issubclass(cls, ClaimKind):
    return ['must subclass sslgap.claims.ClaimKind']
  return [f'needs a method {m}' for m in ('seed_values', 'describe') if not registry.defines(cls, m, ClaimKind)]


KINDS = registry.Registry('claim kind', 'name', _check_kind, named_by="the claims' `kind`")
register = KINDS.register


def name_of(c, key):
  return c.get(f'{key}_label') or _selection(c[key])


def _record(kind, r, c, key, metric, best, keep, out):
  """The tuned values of series c[key], noting its choices and grid edges in `out` (a dict of dicts)."""
  v, chosen, edges = kind.tuned(r, c[key], metric, best, keep)
  name = name_of(c, key)
  if chosen:
    out['chosen'].setdefault(name, []).append(chosen)
  if edges:
    out['edges'][name] = edges
  sub = r.sel(**dict(c[key]))
  out['tuned'].update(dict.fromkeys(a for a in sub.axis_names if a != 'seed' and a not in keep
                                    and len(sub.coords[a]) > 1))
  return v


def _notes():
  return {'chosen': {}, 'edges': {}, 'tuned': {}}  # tuned: axes in the grid's order (a dict as an ordered set)


def _restricted_times(kind, r, c, key, notes):
  """(per-seed crossing steps restricted to [half the first evaluation, the horizon], never-reached count)
  of series c[key], on the claim's x axis."""
  above = c.get('above', c.get('best', 'max') == 'max')
  v = _record(kind, r, c, key, c['metric'], c.get('best', 'max'), (), notes)  # [S, E]
  axis = np.asarray(r.eval_steps, float)
  t = stats.crossing_step(v, axis, c['target'], above)
  if c.get('x', 'steps') == 'compute':
    seen = np.asarray(r.examples_at(dict(c[key])), float)
    t = np.where(np.isfinite(t), np.interp(t, axis, seen), np.inf)
    axis = seen
  floor = axis[1] / 2 if len(axis) > 1 and axis[1] > 0 else 1.0
  return np.clip(t, floor, axis[-1]), int(np.sum(~np.isfinite(t)))


@register
class Faster(ClaimKind):
  name = 'faster'

  def seed_values(self, r, c):
    notes, times, censored = _notes(), {}, {}
    for key in ('a', 'b'):
      times[key], censored[name_of(c, key)] = _restricted_times(self, r, c, key, notes)
    x = c.get('x', 'steps')
    flags = ()
    cost = _per_step_cost(r, c) if x == 'compute' else 1.0
    if cost >= 2:
      flags = ((BY_CONSTRUCTION, f'b processes {cost:.3g}x the examples of a in the same steps: a wins in compute '
                'unless it needs that many times more steps'),)
    return SeedValues(np.log2(times['b'] / times['a']), f'log2 of the {x} ratio b/a', 'log2',
                      {name_of(c, k): times[k] for k in 'ab'}, 'steps' if x == 'steps' else 'examples', censored,
                      flags, notes['edges'], notes['chosen'], tuned_axes=tuple(notes['tuned']))

  def describe(self, c):
    return (f'[{name_of(c, "a")}] reaches {_goal(c)} in fewer {c.get("x", "steps")} than [{name_of(c, "b")}] '
            '(per seed: log2 of the ratio of crossing steps, b over a, interpolated, restricted to the horizon)')


@register
class AsFast(ClaimKind):
  name = 'as_fast'
  equivalence = True

  def seed_values(self, r, c):
    measured = Faster.seed_values(self, r, c)
    if c.get('baseline'):
      base = Faster.seed_values(self, r, dict(c, a=c['baseline']['a'], b=c['baseline']['b'], a_label=None,
                                              b_label=None))
      measured.baseline = base.values
      measured.margin = c.get('margin_fraction', 0.5) * base.values
      measured.edges.update(base.edges)
      measured.tuned_axes = tuple(dict.fromkeys(measured.tuned_axes + base.tuned_axes))
    else:
      measured.margin = np.full_like(measured.values, float(c['margin']))
    return measured

  def describe(self, c):
    if c.get('baseline'):
      within = (f'within {c.get("margin_fraction", 0.5):g} of the gap between [{_selection(c["baseline"]["a"])}] and '
                f'[{_selection(c["baseline"]["b"])}] on the same seeds')
    else:
      within = f'within +-{c["margin"]} in log2'
    return (f'[{name_of(c, "a")}] and [{name_of(c, "b")}] reach {_goal(c)} equally fast: the log2 ratio of their '
            f'{c.get("x", "steps")} lies {within}')


def _ceiling(kind, r, c, keys, keep=(), cell=None):
  """The CEILING flag when every metric the claim reads (a derived one's components) is saturated at the
  end for every series: a claim about the end cannot tell them apart there."""
  metric = c.get('metric', '')
  parts = components(metric)
  if not all(p.endswith('_acc') for p in parts) or (metric == parts[0] and c.get('best', 'max') != 'max'):
    return ()
  means = []
  by = tune_metric_for(r, metric)[0]  # each component read at the settings the claim's series are tuned to
  for key in keys:
    for part in parts:
      v, _, _ = tuned_with_edges(r, c[key], part, 'max', keep, tune_metric=by, tune_on=kind.tune_on)
      final = v[..., -1]
      means.append(float(stats._nan_quiet(np.nanmean, final[cell] if cell is not None else final)))
  if all(m >= SATURATED for m in means):
    return ((CEILING, f'every series ends at {", ".join(f"{m:.3f}" for m in means)} '
             f'{" and ".join(parts)}: the end cannot tell them apart'),)
  return ()


@register
class Better(ClaimKind):
  name = 'better'

  def seed_values(self, r, c):
    notes = _notes()
    best, at = c.get('best', 'max'), c.get('at', 'final')
    values = {k: _at(_record(self, r, c, k, c['metric'], best, (), notes), at, r.eval_steps) for k in 'ab'}
    sign = 1.0 if best == 'max' else -1.0
    flags = _ceiling(self, r, c, 'ab') if at == 'final' else ()
    return SeedValues(sign * (values['a'] - values['b']), f'{c["metric"]} advantage of a', 'difference',
                      {name_of(c, k): values[k] for k in 'ab'}, '', {}, flags, notes['edges'], notes['chosen'],
                      reference=float(stats._nan_quiet(np.nanmean, values['b'])), tuned_axes=tuple(notes['tuned']))

  def describe(self, c):
    at = c.get('at', 'final')
    where = 'at the end' if at == 'final' else 'on average over training' if at == 'mean' else f'at step {at}'
    sense = 'lower' if c.get('best') == 'min' else 'higher'
    return f'{c.get("metric", "")} of [{name_of(c, "a")}] is {sense} than of [{name_of(c, "b")}] {where}'


def _in_region(values, condition):
  op, bound = condition
  return {'<=': values <= bound * (1 + 1e-9), '>=': values >= bound * (1 - 1e-9), '==': np.isclose(values, bound),
          '<': values < bound, '>': values > bound}[op]


@register
class Closes(ClaimKind):
  name = 'closes'

  def seed_values(self, r, c):
    notes, best = _notes(), c.get('best', 'max')
    sign = 1.0 if best == 'max' else -1.0
    region = dict(c['region'])
    keep = list(region)
    a, b = (_record(self, r, c, k, c['metric'], best, keep, notes)[..., -1] for k in 'ab')  # [*region, S]
    judge = self.tune_on if self.tune_on is not None else r
    b_judge = _record(self, judge, c, 'b', c['metric'], best, keep, _notes())[..., -1]
    sub = r.sel(**c['b'])
    mask = np.ones(a.shape[:-1], bool)
    for i, axis in enumerate(keep):
      shape = [1] * len(keep)
      shape[i] = -1
      mask = mask & _in_region(np.asarray(sub.coords[axis], float), region[axis]).reshape(shape)
    if not mask.any():
      raise ValueError(f'claim {c.get("text", "")!r}: no grid cell lies in the region {region}')
    score = np.where(mask, stats._nan_quiet(np.nanmean, b_judge, axis=-1) * sign, -np.inf)
    cell = np.unravel_index(int(np.argmax(score)), score.shape)
    where = {axis: short(float(sub.coords[axis][i])) for axis, i in zip(keep, cell)}
    notes['chosen'].setdefault('region cell', []).append(where)
    if mask.sum() > 1:
      notes['tuned'].update(dict.fromkeys(keep))  # the cell is chosen (on the other half of the seeds when cross-fitting)
    base = {k: _at(_record(self, r, dict(c, **{k: dict(c[k], **c['baseline'])}), k, c['metric'], best, (), notes),
                   'final', r.eval_steps) for k in 'ab'}
    gap, base_gap = sign * (a[cell] - b[cell]), sign * (base['a'] - base['b'])
    fraction = c.get('margin_fraction', 0.5)
    # No ceiling flag: both series saturated in the region is the gap closed, which is what is claimed.
    return SeedValues(fraction * base_gap - gap, f'{fraction:g} x the gap at {_selection(c["baseline"])} minus the gap '
                      'left in the region', 'difference',
                      {'gap left in the region': gap, f'gap at {_selection(c["baseline"])}': base_gap}, '', {}, (),
                      notes['edges'], notes['chosen'], baseline=base_gap, tuned_axes=tuple(notes['tuned']))

  def describe(self, c):
    region = ', '.join(f'{k} {op} {v}' for k, (op, v) in dict(c['region']).items())
    return (f'where {region}, at the cell best for [{name_of(c, "b")}], the {c.get("metric", "")} gap '
            f'[{name_of(c, "a")}] - [{name_of(c, "b")}] is below {c.get("margin_fraction", 0.5):g} of the gap at '
            f'{_selection(c["baseline"])}')


def _seed_slopes(x, y):
  """[S] least-squares slope of each seed's y [X, S] against x [X] (NaN where fewer than two finite points)."""
  ok = np.isfinite(y)
  count = ok.sum(axis=0)
  xs = np.where(ok, x[:, None], 0.0)
  mx = xs.sum(axis=0) / np.maximum(count, 1)
  my = np.where(ok, y, 0.0).sum(axis=0) / np.maximum(count, 1)
  dx, dy = np.where(ok, x[:, None] - mx, 0.0), np.where(ok, y - my, 0.0)
  with np.errstate(invalid='ignore', divide='ignore'):
    return np.where(count >= 2, (dx * dy).sum(axis=0) / (dx * dx).sum(axis=0), np.nan)


@register
class Slope(ClaimKind):
  name = 'slope'

  def seed_values(self, r, c):
    notes, axis = _notes(), c['x_axis']
    v = _record(self, r, c, 'series', c['metric'], c.get('best', 'max'), [axis], notes)[..., -1]  # [X, S]
    x = np.asarray(r.sel(**c['series']).coords[axis], float)
    lo, hi = c.get('x_range', [x.min(), x.max()])
    use = (x >= lo) & (x <= hi) & (x > 0)
    with np.errstate(divide='ignore', invalid='ignore'):
      slopes = _seed_slopes(np.log(x[use]), np.log(v[use]))
    if 'at_most' in c:
      values, words = c['at_most'] - slopes, f'{c["at_most"]} minus the log-log slope against {axis}'
    else:
      values, words = slopes - c['at_least'], f'the log-log slope against {axis} minus {c["at_least"]}'
    return SeedValues(values, words, 'difference', {f'log-log slope against {axis}': slopes}, '', {}, (),
                      notes['edges'], notes['chosen'], tuned_axes=tuple(notes['tuned']))

  def min_effect(self, claim, measured):
    return float(claim.get('min_effect', 0.0))  # a bound: any effect on its side is the paper's

  def describe(self, c):
    bound = f'at most {c["at_most"]}' if 'at_most' in c else f'at least {c["at_least"]}'
    return (f'the log-log slope of the final {c.get("metric", "")} of [{_selection(c["series"])}] against '
            f'{c["x_axis"]} is {bound} (per seed)')


def _refined_argmax(scores, log_x):
  """[S] the log2 axis value of each seed's best score (scores [X, S], higher is better), refined by the
  vertex of the parabola through it and its neighbours (at an end of the grid: the end)."""
  filled = np.where(np.isnan(scores), -np.inf, scores)
  i = np.argmax(filled, axis=0)
  best = log_x[i]
  inside = (i > 0) & (i < len(log_x) - 1)
  j = np.clip(i, 1, max(len(log_x) - 2, 1))
  if len(log_x) >= 3:
    cols = np.arange(scores.shape[1])
    y0, y1, y2 = filled[j - 1, cols], filled[j, cols], filled[j + 1, cols]
    x0, x1, x2 = log_x[j - 1], log_x[j], log_x[j + 1]
    with np.errstate(invalid='ignore', divide='ignore'):
      denom = (x0 - x1) * (x0 - x2) * (x1 - x2)
      a = (x2 * (y1 - y0) + x1 * (y0 - y2) + x0 * (y2 - y1)) / denom
      b = (x2**2 * (y0 - y1) + x1**2 * (y2 - y0) + x0**2 * (y1 - y2)) / denom
      vertex = np.clip(-b / (2 * a), x0, x2)
    refined = inside & np.isfinite(vertex) & (a < 0)
    best = np.where(refined, vertex, best)
  return np.where(np.all(np.isnan(scores), axis=0), np.nan, best)


@register
class Argmax(ClaimKind):
  name = 'argmax'

  def seed_values(self, r, c):
    notes, axis, best = _notes(), c['axis'], c.get('best', 'max')
    coords = np.asarray(r.sel(**c['a']).coords[axis], float)
    sign = 1.0 if best == 'max' else -1.0
    # The mean over training by default: the final value saturates (ties) once several settings learn.
    at = c.get('at', 'mean')
    found, means = {}, {}
    for key in 'ab':
      v = _at(_record(self, r, c, key, c['metric'], best, [axis], notes), at, r.eval_steps)  # [X, S]
      found[key] = _refined_argmax(sign * v, np.log2(coords))
      means[key] = stats._nan_quiet(np.nanmean, sign * v, axis=-1)
    direction = c.get('direction', 'larger')
    diff = found['b'] - found['a']
    values = -diff if direction == 'smaller' else diff
    edges = [name_of(c, k) for k in 'ab' if np.argmax(np.where(np.isnan(means[k]), -np.inf, means[k])) in
             (0, len(coords) - 1)]
    flags = ((GRID_EDGE, f'the best {axis} of {" and ".join(edges)} (seed mean) is at an end of its grid '
              f'({short(coords[0])} to {short(coords[-1])}): the optimum may lie beyond it'),) if edges else ()
    measured = SeedValues(values, f'log2 of the best {axis}, b over a', 'log2',
                          {f'best {axis} of {name_of(c, k)}': 2.0**found[k] for k in 'ab'}, '', {}, flags,
                          notes['edges'], notes['chosen'], tuned_axes=tuple(notes['tuned']))
    if direction == 'same':
      measured.margin = np.full_like(values, float(c.get('margin', 0.5)))
    return measured

  def describe(self, c):
    direction = c.get('direction', 'larger')
    relation = f'within a factor 2^{c.get("margin", 0.5)} of' if direction == 'same' else f'{direction} than'
    return (f'the {c["axis"]} best for [{name_of(c, "b")}] is {relation} the one best for [{name_of(c, "a")}] '
            f'({c.get("metric", "")}; per seed, refined between grid values)')


@register
class Trend(ClaimKind):
  name = 'trend'

  def seed_values(self, r, c):
    notes, axis, best = _notes(), c['x_axis'], c.get('best', 'max')
    a, b = (_at(_record(self, r, c, k, c['metric'], best, [axis], notes), c.get('at', 'final'), r.eval_steps)
            for k in 'ab')
    gap = (a - b) * (1.0 if best == 'max' else -1.0)  # [X, S]
    coords = r.sel(**c['a']).coords[axis].tolist()
    use = np.ones(len(coords), bool) if c.get('x_values') is None else np.isin(coords, list(c['x_values']))
    gap, coords = gap[use], [v for v, u in zip(coords, use) if u]
    slopes = _seed_slopes(np.arange(len(coords), dtype=float), gap)
    sign = 1.0 if c.get('direction', 'increasing') == 'increasing' else -1.0
    return SeedValues(sign * slopes, f'slope of the gap along {axis} (per grid position)', 'difference',
                      {f'gap at {axis}={short(v)}': gap[i] for i, v in enumerate(coords)}, '', {}, (),
                      notes['edges'], notes['chosen'], reference=float(stats._nan_quiet(np.nanmean, np.abs(gap))),
                      tuned_axes=tuple(notes['tuned']))

  def describe(self, c):
    return (f'the {c.get("metric", "")} gap [{name_of(c, "a")}] - [{name_of(c, "b")}] is '
            f'{c.get("direction", "increasing")} along {c["x_axis"]}'
            + (f' over {list(c["x_values"])}' if c.get('x_values') is not None else ''))


# --- deciding a claim ----------------------------------------------------------------------------

def describe(claim):
  """The claim in words, from its fields (its kind's name if the kind is unknown)."""
  kind = KINDS.get(claim['kind'])
  return kind().describe(claim) if kind else str(claim['kind'])


def _is_equivalence(kind, claim):
  return kind.equivalence or (claim['kind'] == 'argmax' and claim.get('direction') == 'same')


def _lr_flag(results, claim, measured):
  """LR_NOT_TUNED where the grid runs one learning rate and the claim does not say that the paper's own
  claim is at a fixed one (fixed_lr=True), nor checks each lr (per='lr')."""
  if claim.get('fixed_lr') or claim.get('per') == 'lr' or 'lr' in measured.tuned_axes:
    return ()
  fixed_by_series = any('lr' in dict(claim.get(k) or {}) for k in ('a', 'b', 'series'))
  lrs = len(results.coords['lr']) if 'lr' in results.axis_names else 1
  if lrs > 1 and not fixed_by_series:
    return ()
  return ((LR_NOT_TUNED, 'one learning rate' + (' (the series fix it)' if fixed_by_series else ' in the grid')
           + ': the paper tunes it per setting'),)


def _outcome(values, margin, equivalence, effect, low, high):
  """(outcome, reason) of an interval [low, high] of the mean of `values` (one per seed)."""
  if equivalence:
    upper = stats.t_interval(margin - values, LEVEL)  # > 0: below the margin
    lower = stats.t_interval(margin + values, LEVEL)  # > 0: above minus the margin
    if upper[0] > 0 and lower[0] > 0:
      return REPRODUCED, ''
    if upper[2] < 0 or lower[2] < 0:
      return OPPOSITE, ''
    return UNDETERMINED, UNDERPOWERED
  if low > 0:
    return REPRODUCED, ''
  if high < 0:
    return OPPOSITE, ''
  if np.isfinite(effect) and effect > 0 and high < effect:
    return SMALLER, ''
  return UNDETERMINED, UNDERPOWERED


def decide(claim, measured, kind, tuning='', in_sample=None):
  """The Verdict of a claim from its SeedValues: the t interval, the outcome, and its qualifications."""
  low, mid, high, n, sd = stats.t_interval(measured.values, LEVEL)
  equivalence = _is_equivalence(kind, claim)
  effect = kind.min_effect(claim, measured)
  flags = list(measured.flags)
  if measured.edges:
    tuned_at = lambda e: ', '.join(f'{a.split("__")[-1]} {short(v)}' for a, v in e.items())
    where = '; '.join(f'{tuned_at(e)} for {name}' for name, e in measured.edges.items())
    flags.append((GRID_EDGE, f'tuned at an end of its grid ({where}): the optimum may lie beyond it'))
  if measured.baseline is not None and not stats.t_interval(measured.baseline, LEVEL)[0] > 0:
    flags.append((NO_BASELINE, 'the baseline shows no gap of its own on these seeds: there is nothing to close'))
  if n < MIN_SEEDS:
    outcome, reason = UNDETERMINED, UNDERPOWERED
  else:
    outcome, reason = _outcome(np.asarray(measured.values, float),
                               None if measured.margin is None else np.asarray(measured.margin, float),
                               equivalence, effect, low, high)
  runs = max(n, 1)
  censored = dict(measured.censored)
  most = [k for k, c in censored.items() if c > runs / 2]
  if outcome == UNDETERMINED and censored and len(most) == len(censored):
    reason = CENSORED  # every series mostly never got there: a longer horizon decides, not more seeds
  if outcome in (SMALLER, REPRODUCED if equivalence else None) and \
      any(c > MAX_CENSORED_FOR_A_BOUND * runs for c in censored.values()):
    # A restricted time pulls the effect towards 0: it cannot bound an effect from above, nor show two
    # series alike (seeds that never got there are equal by construction, not by measurement).
    outcome, reason = UNDETERMINED, CENSORED
  interval_says = outcome
  if flags and outcome != UNDETERMINED:
    outcome, reason = UNDETERMINED, flags[0][0]
  elif flags and reason == UNDERPOWERED and n >= MIN_SEEDS:
    reason = flags[0][0]  # more seeds alone would not decide it
  margin = float(np.nanmean(measured.margin)) if measured.margin is not None else float('nan')
  needed = seeds_needed(equivalence, sd, effect, margin, mid) if reason == UNDERPOWERED else None
  series_numbers = {k: tuple(stats.t_interval(v, LEVEL)[:3]) for k, v in measured.series.items()}
  return Verdict(dict(claim), outcome, measured.statistic, mid, low, high, series_numbers, measured.unit, tuple(flags),
                 reason, n, sd, effect, claim.get('min_effect_source', '' if claim.get('min_effect') is not None
                                                   else 'our choice, fixed in advance'),
                 needed, measured.scale, censored, tuning, in_sample, margin, measured.chosen, interval_says,
                 tuple(measured.tuned_axes), dict(measured.edges), int(np.size(measured.values)) - n)


def seeds_needed(equivalence, sd, effect, margin, estimate=0.0, power=0.8):
  """Seeds a t interval needs to decide a claim with `power`: a directional claim at its smallest effect of
  interest (or, without one, at the estimate); an equivalence to fit within its margin around the estimate
  (0: the design's assumption that the series are alike). None where the spread or distance is unknown."""
  if not np.isfinite(sd):
    return None
  if equivalence:
    distance = margin - abs(estimate)
  else:
    distance = effect if np.isfinite(effect) and effect > 0 else abs(estimate)
  return stats.seeds_to_decide(sd, distance, LEVEL, power) if np.isfinite(distance) and distance > 0 else None


def evaluate(claim, results, in_sample=True):
  """The Verdict of one claim on a result grid: each seed's number computed with the tuned axes chosen on
  the other half of the seeds (cross-fitting), a t interval over them, the outcome and its flags; with
  in_sample, also the interval tuned on all seeds (Verdict.in_sample), to count what cross-fitting changes."""
  claim = dict(claim)
  if claim.get('kind') not in KINDS:
    raise ValueError(f'claim {claim.get("text", "")!r}: unknown kind {claim.get("kind")!r}; known: {sorted(KINDS)}')
  if 'seed' not in results.axis_names:
    raise ValueError('claims need a seed axis')
  kind_class = KINDS[claim['kind']]
  seeds = [results_lib.parse_coord(v) for v in results.coords['seed']]
  whole = kind_class().seed_values(results, claim) if in_sample or len(seeds) < 2 else None
  if len(seeds) >= 2:
    halves = (seeds[0::2], seeds[1::2])
    parts = []
    for tune, test in ((halves[1], halves[0]), (halves[0], halves[1])):
      kind = kind_class()
      kind.tune_on = results.sel(seed=list(tune))
      parts.append(kind.seed_values(results.sel(seed=list(test)), claim))
    measured = _joined(parts)
  else:
    measured = whole
  lr_flag = _lr_flag(results, claim, measured)
  measured.flags = tuple(measured.flags) + lr_flag
  tuning = ('cross-fitted' if len(seeds) >= 2 else 'in-sample') if measured.tuned_axes else \
      ('not tuned' if lr_flag else 'fixed')
  before = None
  if in_sample and whole is not measured:
    whole.flags = tuple(whole.flags) + lr_flag
    tuned_on_all = decide(claim, whole, kind_class(), tuning='in-sample')
    before = (tuned_on_all.verdict, tuned_on_all.low, tuned_on_all.estimate, tuned_on_all.high)
  return decide(claim, measured, kind_class(), tuning, before)


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
               checked_at=cited_value(value), per=axis)
    for key in ('a', 'b', 'series'):
      if key in one and axis not in one[key]:
        one[key] = dict(one[key], **{axis: value})
    if 'baseline' in one and isinstance(one['baseline'], dict) and set(one['baseline']) == {'a', 'b'}:
      one['baseline'] = {k: dict(v, **{axis: value}) if axis not in v else v for k, v in one['baseline'].items()}
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


def evaluate_all(results):
  """Verdicts of every claim the grid's config carries (a claim with `per` gives several)."""
  return [evaluate(c, results) for claim in results.config.get('claims') or [] for c in expand(claim, results)]
