"""Seeds are samples: bootstrap intervals, censored times to a target, success probabilities (numpy only).

Every function takes arrays whose seed axis is given (or last), so one call covers a whole grid.
The bootstrap resamples seeds with replacement, in batches of resamples (no Python loop per
resample), and reports the percentile interval. Times to a target are censored, not dropped: a
run that never reaches the target took "more than the last step", recorded as +inf, so medians
and their intervals stay honest when some seeds fail.
"""

import functools
import warnings

import numpy as np

MAX_BATCH_ELEMENTS = 2e7  # how many resampled values one batch may hold


def _nan_quiet(fn, *args, **kwargs):
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', RuntimeWarning)
    return fn(*args, **kwargs)


def resample_indices(num_seeds, n, seed=0):
  """[n, num_seeds] seed indices, each row a resample with replacement (shared by paired series)."""
  return np.random.default_rng(seed).integers(0, num_seeds, size=(n, num_seeds))


def bootstrap(values, fn=np.nanmean, n=2000, ci=0.95, axis=-1, seed=0, indices=None):
  """(low, mid, high) of fn over the seed axis: mid = fn of the data, low and high the percentile
  interval of fn over n resamples of the seeds. fn(x, axis=-1) reduces the last axis (it may
  return inf, e.g. a median of censored times). indices: resample indices to share between
  series (paired seeds), [n, seeds]."""
  x = np.moveaxis(np.asarray(values, float), axis, -1)
  seeds = x.shape[-1]
  mid = _nan_quiet(fn, x, axis=-1)
  if indices is None:
    indices = resample_indices(seeds, n, seed)
  per_batch = max(1, int(MAX_BATCH_ELEMENTS // max(x.size, 1)))
  stats = []
  for start in range(0, len(indices), per_batch):
    block = x[..., indices[start:start + per_batch]]  # [..., b, seeds]
    stats.append(_nan_quiet(fn, block, axis=-1))
  stats = np.concatenate(stats, axis=-1)  # [..., n]
  tail = 100 * (1 - ci) / 2
  # Order statistics, not interpolation: a resampled +inf (a censored time) stays +inf.
  low, high = _nan_quiet(np.nanpercentile, stats, [tail, 100 - tail], axis=-1, method='inverted_cdf')
  return low, mid, high


def first_step(values, eval_steps, target, above=True):
  """The first eval step at which each run reaches the target, +inf if it never does (censored).
  values: [..., E]."""
  hit = values >= target if above else values <= target
  steps = np.asarray(eval_steps, float)[np.argmax(hit, axis=-1)]
  return np.where(hit.any(axis=-1), steps, np.inf)


def success_probability(values, target, above=True, axis=-2):
  """The fraction of seeds (axis) that have reached the target by each eval step: [..., E]."""
  hit = values >= target if above else values <= target
  return np.maximum.accumulate(hit, axis=-1).mean(axis=axis)


def censored_median(x, axis=-1):
  """The median with +inf for runs that never reached the target: +inf once half of them did not."""
  return np.median(x, axis=axis)


def sem(values, axis=-1):
  """Standard error of the mean, ignoring NaN (diverged) runs."""
  x = np.asarray(values, float)
  count = np.sum(np.isfinite(x), axis=axis)
  return _nan_quiet(np.nanstd, x, axis=axis, ddof=1) / np.sqrt(np.maximum(count, 1))


def loglog_slope(x, y, axis=-1):
  """Least-squares slope of log y against log x along axis (x 1-D); NaN where fewer than two
  finite positive points."""
  y = np.moveaxis(np.asarray(y, float), axis, -1)
  lx = np.log(np.asarray(x, float))
  with np.errstate(divide='ignore', invalid='ignore'):
    ly = np.log(y)
  ok = np.isfinite(ly)
  count = ok.sum(axis=-1)
  mx = np.where(ok, lx, 0).sum(axis=-1) / np.maximum(count, 1)
  my = np.where(ok, ly, 0).sum(axis=-1) / np.maximum(count, 1)
  dx = np.where(ok, lx - mx[..., None], 0)
  dy = np.where(ok, ly - my[..., None], 0)
  with np.errstate(divide='ignore', invalid='ignore'):
    slope = (dx * dy).sum(axis=-1) / (dx * dx).sum(axis=-1)
  return np.where(count >= 2, slope, np.nan)


def fitted_loglog_slope(x, y):
  """The slope of a least-squares line through (log x, log y) over the finite positive points (NaN if
  fewer than two): one number, for a figure's legend."""
  x, y = np.asarray(x, float), np.asarray(y, float)
  ok = np.isfinite(y) & (y > 0) & (x > 0)
  if ok.sum() < 2:
    return np.nan
  return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0])


# --- intervals that hold their level at a handful of seeds -----------------------------------------
# A claim reduces each seed to one number (paired across its series: the same seed index is the same
# initialisation and data), and its interval is Student's t over those numbers: exact for normal values
# at any count from 2, conservative for symmetric heavy tails. A percentile bootstrap over 2 to 8 seeds
# covers 52% to 88% of the time, not 95% (simulated in tests/test_calibration.py, with the t interval's).

@functools.lru_cache(maxsize=None)
def t_quantile(q, df):
  # scipy.special, not scipy.stats: stats.t.ppf(q, df) is special.stdtrit(df, q) (checked bitwise for df 1 to
  # 2,000), and importing scipy.stats costs every command that draws a band about a second of CPU.
  from scipy import special  # noqa: PLC0415 - scipy comes with JAX; numpy-only readers never call this
  return float(special.stdtrit(df, q))


def t_interval(values, ci=0.95):
  """(low, mean, high, n, sd) of the finite values: Student's t interval for their mean (NaN ends below 2)."""
  x = np.asarray(values, float)
  x = x[np.isfinite(x)]
  n = x.size
  if n < 2:
    mean = float(x.mean()) if n else float('nan')
    return float('nan'), mean, float('nan'), n, float('nan')
  low, mean, high = t_intervals(x, ci)
  return float(low), float(mean), float(high), n, float(x.std(ddof=1))


def t_intervals(values, ci=0.95):
  """(low, mean, high) of Student's t interval over the last axis of values [..., n] (all finite, n >= 2)."""
  x = np.asarray(values, float)
  n = x.shape[-1]
  mean, sd = x.mean(axis=-1), x.std(axis=-1, ddof=1)
  half = t_quantile(0.5 + ci / 2, n - 1) * sd / np.sqrt(n)
  return mean - half, mean, mean + half


def t_bands(values, ci=0.95, axis=-1):
  """(low, mean, high) along `axis` of values that may hold NaN (diverged or missing seeds): each position's
  Student's t interval over its finite values (the verdicts' interval, so a figure's band and its
  report's number agree); NaN ends where fewer than 2 are finite."""
  x = np.moveaxis(np.asarray(values, float), axis, -1)
  n = np.isfinite(x).sum(axis=-1)
  mean = _nan_quiet(np.nanmean, x, axis=-1)
  sd = _nan_quiet(np.nanstd, x, axis=-1, ddof=1)
  quantile = np.full(n.shape, np.nan)
  for count in np.unique(n[n >= 2]):
    quantile[n == count] = t_quantile(0.5 + ci / 2, int(count) - 1)
  half = quantile * sd / np.sqrt(np.maximum(n, 1))
  return mean - half, mean, mean + half


def seeds_to_decide(sd, effect, ci=0.95, power=0.8):
  """Seeds a t interval needs to exclude 0 with probability `power` when the mean is `effect` and the
  seed-level spread sd (normal values; the t quantiles at that count, found by iteration)."""
  if not (np.isfinite(sd) and np.isfinite(effect)) or effect == 0:
    return None
  if sd == 0:
    return 2
  needed = lambda n: (t_quantile(0.5 + ci / 2, n - 1) + t_quantile(power, n - 1)) ** 2 * (sd / abs(effect)) ** 2
  # The smallest n with n >= needed(n): needed falls with n (the t quantiles shrink towards the normal's),
  # so count up from the normal approximation, which is never above it.
  from scipy import special  # noqa: PLC0415 - norm.ppf is special.ndtri (see t_quantile)
  z = (special.ndtri(0.5 + ci / 2) + special.ndtri(power)) ** 2 * (sd / abs(effect)) ** 2
  n = max(2, int(np.ceil(z)))
  while n < 1_000_000 and n < needed(n):
    n += 1
  return n


def crossing_step(values, eval_steps, target, above=True):
  """The step at which each run's curve first reaches the target, linearly interpolated between the
  evaluation before and the one at or past it (a run at the target from the start: step 0), +inf if it
  never does (censored). values: [..., E]. One evaluation apart is as coarse as the effects claimed:
  interpolating resolves the crossing below the spacing."""
  v = np.asarray(values, float)
  steps = np.asarray(eval_steps, float)
  hit = v >= target if above else v <= target
  reached = hit.any(axis=-1)
  j = np.argmax(hit, axis=-1)
  before = np.maximum(j - 1, 0)
  v_at, v_before = np.take_along_axis(v, j[..., None], -1)[..., 0], np.take_along_axis(v, before[..., None], -1)[..., 0]
  with np.errstate(invalid='ignore', divide='ignore'):
    share = np.clip((target - v_before) / (v_at - v_before), 0.0, 1.0)
  share = np.where(np.isfinite(share), share, 1.0)
  crossed = steps[before] + share * (steps[j] - steps[before])
  return np.where(reached, np.where(j == 0, steps[0], crossed), np.inf)
