"""Every claim kind's interval holds its level at the seed counts presets use, shown by simulation.

Synthetic grids with a known effect go through a kind's own per-seed numbers (series, tuning, the kind's
statistic) and the t interval of sslgap.claims, thousands of times: the interval must cover the true
effect 93% to 97% of the time with normal, heavy-tailed (Student t, 5 degrees of freedom) and censored
seeds, at every seed count a verdict may use (claims.MIN_SEEDS = 4 to 64; at 2 and 3 heavily censored
times cover 93.3% and 93.6%, too close to the edge, so fewer than 4 seeds decide nothing). Where nothing is tuned, a seed's number depends
on that seed alone, so the trials are the seeds of one large grid, cut into groups of n after the kind
has computed them; a few trials go through claims.evaluate whole, which must give the same interval.
Beside them: the percentile bootstrap the project used before, which covers far less at these counts,
the chance that an equivalence is said where it is false by its own margin, and the cross-fitted tuning
that keeps a tuned interval honest where in-sample tuning does not.
"""

import math
import zlib

import numpy as np
import pytest

from sslgap import claims
from sslgap import results
from sslgap import stats

TRIALS = 4000  # per (kind, distribution, seed count); a fixed generator, so the test is the same every run
SEED_COUNTS = (4, 8, 16, 64)  # claims.MIN_SEEDS and up: below it a claim is underpowered
STEPS = np.arange(0, 2050, 50)  # 41 evaluations; the horizon of the time claims is 2,000 steps
CONFIG = {'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}}


def _noise(rng, shape, kind):
  if kind == 'heavy':
    return rng.standard_t(5, size=shape) / math.sqrt(5 / 3)  # unit variance, heavy tails
  return rng.normal(size=shape)


def _grid(axes, metric, name='m'):
  """Results of axes [(name, values)] + seed, a metric [*axes, seeds, E] of that name."""
  names = [n for n, _ in axes] + ['seed']
  coords = {n: np.asarray(v) for n, v in axes}
  coords['seed'] = np.arange(metric.shape[-2])
  return results.Results(names, coords, STEPS[:metric.shape[-1]], {name: metric}, CONFIG)


def _coverage(make, truth, n, rng, trials=TRIALS):
  """The share of `trials` intervals over n seeds that cover the truth: the kind's per-seed numbers of
  trials x n seeds at once, then the t interval of each group of n. A few groups are checked against
  claims.evaluate on their own grid (the same numbers, through cross-fitting and decide)."""
  grid, claim = make(trials * n, rng)
  values = claims.KINDS[claim['kind']]().seed_values(grid, claim).values.reshape(trials, n)
  low, _, high = stats.t_intervals(values, claims.LEVEL)
  for trial in range(3):
    one = grid.sel(seed=list(range(trial * n, (trial + 1) * n)))
    v = claims.evaluate(claim, one, in_sample=False)
    np.testing.assert_allclose([v.low, v.high], [low[trial], high[trial]], rtol=1e-9, atol=1e-12)
  return float(np.mean((low <= truth) & (truth <= high)))


# --- one simulation per kind -------------------------------------------------------------------------

def _better(dist, effect=0.1, spread=0.05):
  claim = dict(kind='better', metric='m', a={'dataset_size': 64}, b={'dataset_size': 0}, fixed_lr=True, at='final')

  def make(n, rng):
    b = 0.7 + spread * _noise(rng, n, dist)
    a = b + effect + spread * _noise(rng, n, dist)
    metric = np.repeat(np.stack([a, b])[:, :, None], 3, axis=-1)
    return _grid([('dataset_size', [64, 0])], metric), claim
  return make, effect


def _ramp(times):
  """Curves that rise linearly from 0.5 and cross 0.9 exactly at `times` [..., S] (then level at 1)."""
  return np.clip(0.5 + 0.4 * STEPS / np.asarray(times)[..., None], 0, 1)


def _faster(dist, effect=0.5, spread=0.4, centre=900.0, censored_truth=None):
  """Crossing times log-normal around `centre`; b later by 2^effect. With censoring (centre near the
  horizon) the truth is the restricted estimand: E log2(min(Tb, H) / min(Ta, H))."""
  claim = dict(kind='faster', metric='m', target=0.9, a={'dataset_size': 64}, b={'dataset_size': 0}, fixed_lr=True)
  horizon, floor = float(STEPS[-1]), STEPS[1] / 2

  def times(n, rng):
    log_a = np.log2(centre) + spread * _noise(rng, n, dist)
    log_b = log_a + effect + spread * _noise(rng, n, dist)
    return 2.0**log_a, 2.0**log_b

  def make(n, rng):
    a, b = times(n, rng)
    return _grid([('dataset_size', [64, 0])], _ramp(np.stack([a, b]))), claim

  big = np.random.default_rng(99)
  a, b = times(400_000, big)
  truth = float(np.mean(np.log2(np.clip(b, floor, horizon) / np.clip(a, floor, horizon))))
  return make, truth


def _trend(dist, slope=0.03, spread=0.04):
  claim = dict(kind='trend', metric='m', at='final', x_axis='task__k', a={'dataset_size': 64}, b={'dataset_size': 0},
               fixed_lr=True)

  def make(n, rng):
    x = np.arange(3)[:, None]
    b = 0.6 + spread * _noise(rng, (3, n), dist)
    a = b + 0.1 + slope * x + spread * _noise(rng, (3, n), dist)
    metric = np.repeat(np.stack([a, b], axis=1)[..., None], 3, axis=-1)  # [x, dataset_size, S, E]
    return _grid([('task__k', [4, 5, 6]), ('dataset_size', [64, 0])], metric), claim
  return make, slope


def _slope(dist, exponent=0.45, spread=0.08):
  sizes = np.array([64, 128, 256, 512, 1024])
  claim = dict(kind='slope', metric='m', best='min', x_axis='dataset_size', at_most=0.5, series={}, fixed_lr=True)

  def make(n, rng):
    slopes = exponent + spread * _noise(rng, n, dist)
    values = np.exp(slopes[None, :] * np.log(sizes)[:, None] + 0.05 * _noise(rng, (5, n), dist))
    return _grid([('dataset_size', sizes)], np.repeat(values[..., None], 2, axis=-1)), claim
  return make, 0.5 - exponent


def _argmax(dist, shift=0.6, spread=0.3):
  """Each seed's score is a parabola in log2 of the axis with its vertex at v_s: the refined argmax finds
  it between grid values, so b's best over a's is 2^shift on average."""
  grid_values = 2.0 ** np.arange(-1, 4)  # 0.5 ... 8
  claim = dict(kind='argmax', metric='m', axis='lr_mult_qk', a={'dataset_size': 64}, b={'dataset_size': 0},
               fixed_lr=True)

  def make(n, rng):
    va = 1.0 + spread * _noise(rng, n, dist)
    vb = va + shift + spread * _noise(rng, n, dist)
    x = np.log2(grid_values)[:, None, None]
    scores = -(x - np.stack([va, vb])[None]) ** 2  # [X, 2, S]
    return _grid([('lr_mult_qk', grid_values), ('dataset_size', [64, 0])], np.repeat(scores[..., None], 2, -1)), claim
  return make, shift


def _closes(dist, base_gap=0.2, remaining=0.05, spread=0.04, fraction=0.5):
  """A gap of base_gap at the default init, `remaining` in the region (one cell): the closes statistic is
  fraction x base_gap - remaining on average."""
  claim = dict(kind='closes', metric='m', a={'dataset_size': 64}, b={'dataset_size': 0}, fixed_lr=True,
               region={'init_scale_first': ['<=', 0.5]}, baseline={'init_scale_first': 1.0}, margin_fraction=fraction)

  def make(n, rng):
    b = 0.6 + spread * _noise(rng, (2, n), dist)
    gaps = np.array([remaining, base_gap])[:, None] + spread * _noise(rng, (2, n), dist)
    metric = np.stack([b + gaps, b], axis=1)  # [init, dataset_size, S]
    return _grid([('init_scale_first', [0.5, 1.0]), ('dataset_size', [64, 0])], np.repeat(metric[..., None], 2, -1)), \
        claim
  return make, fraction * base_gap - remaining


def _as_fast(dist):
  """as_fast decides on the same per-seed log ratio as faster (within a margin): its interval must cover too."""
  make, truth = _faster(dist)

  def equal(n, rng):
    grid, claim = make(n, rng)
    return grid, dict(claim, kind='as_fast', margin=0.25)
  return equal, truth


KINDS = {
    'better': _better, 'faster': _faster, 'as_fast': _as_fast, 'trend': _trend, 'slope': _slope, 'argmax': _argmax,
    'closes': _closes,
}


@pytest.mark.parametrize('kind', sorted(KINDS))
@pytest.mark.parametrize('dist', ['normal', 'heavy'])
def test_each_kind_covers_its_effect_93_to_97_percent_at_every_seed_count(kind, dist):
  make, truth = KINDS[kind](dist)
  rng = np.random.default_rng(zlib.crc32(f'{kind} {dist}'.encode()))  # the same stream in every process
  for n in SEED_COUNTS:
    covered = _coverage(make, truth, n, rng)
    assert 0.93 <= covered <= 0.97, (kind, dist, n, covered)


def test_censored_times_are_covered_as_a_restricted_effect():
  """Crossings near the horizon (a third of b's seeds never reach the target in 2,000 steps): the
  restricted log ratio is still covered at its level, and each series counts its censored seeds."""
  make, truth = _faster('normal', centre=1400.0, spread=0.5)
  rng = np.random.default_rng(7)
  grid, claim = make(16, rng)
  v = claims.evaluate(claim, grid)
  assert sum(v.censored.values()) > 0 and set(v.censored) == {'dataset_size=64', 'dataset_size=0'}
  for n in SEED_COUNTS:
    covered = _coverage(make, truth, n, rng)
    assert 0.93 <= covered <= 0.97, (n, covered)


@pytest.mark.parametrize('sd,effect', [(1.0, 0.5), (0.38, 0.32), (2.0, 0.32)])
def test_the_seeds_a_claim_needs_give_it_80_percent_power_and_no_more(sd, effect):
  """stats.seeds_to_decide: at its count, a t interval of normal seeds with that spread excludes 0 when the
  mean is the effect 80% of the time (simulated); a third fewer, clearly less often."""
  n = stats.seeds_to_decide(sd, effect)
  rng = np.random.default_rng(int(n))
  power = lambda count: np.mean(stats.t_intervals(effect + sd * rng.normal(size=(20000, count)))[0] > 0)
  assert 0.79 <= power(n) <= 0.86, (n, power(n))
  assert n == 2 or power(max(2, n * 2 // 3)) < 0.75  # a third fewer seeds: clearly less power
  assert n < 2 * (2.8 * sd / effect) ** 2 + 4  # near the normal approximation, (z + z)^2 (sd / effect)^2


def test_the_t_quantile_is_students_to_the_last_bit():
  """stats.t_quantile calls scipy.special (importing scipy.stats costs a command a second): it must be the
  quantile scipy.stats gives, bitwise, so that no interval of a report moves."""
  from scipy import stats as scipy_stats
  for df in (1, 2, 3, 7, 15, 63, 174, 1999):
    for q in (0.8, 0.9, 0.95, 0.975, 0.995):
      assert stats.t_quantile(q, df) == scipy_stats.t.ppf(q, df), (q, df)


def test_fewer_seeds_than_a_verdict_needs_decide_nothing_however_large_the_effect():
  make, _ = _better('normal', effect=0.3, spread=0.01)
  grid, claim = make(3, np.random.default_rng(0))
  v = claims.evaluate(claim, grid)
  assert claims.MIN_SEEDS == 4 and v.seeds == 3
  assert v.verdict == claims.UNDETERMINED and v.reason == claims.UNDERPOWERED and v.low > 0.25


def test_the_percentile_bootstrap_the_project_used_before_does_not_hold_its_level():
  """What the issue measured: over 2 or 4 seeds the percentile bootstrap covers far below 95%; the t
  interval over the same seeds holds it."""
  rng = np.random.default_rng(11)
  for n, most in ((2, 0.6), (4, 0.85)):
    x = rng.normal(size=(4000, n))
    low, _, high = stats.bootstrap(x, np.mean, n=500)
    assert np.mean((low <= 0) & (0 <= high)) < most
    t = [stats.t_interval(row) for row in x[:2000]]
    assert 0.93 <= np.mean([lo <= 0 <= hi for lo, _, hi, _, _ in t]) <= 0.97


# --- equivalence: the chance of "reproduced" when the truth sits on the margin -----------------------

def test_an_equivalence_says_reproduced_at_most_5_percent_of_the_time_at_its_margin():
  """as_fast against a baseline: a's and b's crossings differ by exactly half the baseline's gap (the
  margin), so "equally fast" is false by the margin's own measure; it must rarely be said."""
  claim = dict(kind='as_fast', metric='m', target=0.9, a={'phase': 1}, b={'phase': 2}, fixed_lr=True,
               baseline={'a': {'phase': 2}, 'b': {'phase': 0}}, margin_fraction=0.5)

  def make(n, rng):
    base = 2.0 ** (np.log2(1600) + 0.2 * rng.normal(size=n))
    true_labels = base / 2.0 ** (1.0 + 0.2 * rng.normal(size=n))  # the baseline gap: 1 in log2
    random_labels = true_labels * 2.0 ** (0.5 + 0.2 * rng.normal(size=n))  # 0.5 slower: the margin
    return _grid([('phase', [0, 1, 2])], _ramp(np.stack([base, random_labels, true_labels]))), claim

  rng = np.random.default_rng(5)
  for n in (4, 16):
    said = [claims.evaluate(claim, make(n, rng)[0], in_sample=False).verdict for _ in range(400)]
    assert said.count(claims.REPRODUCED) / len(said) <= 0.05, n
  close = dict(claim)
  rng = np.random.default_rng(6)

  def equal(n, rng):
    base = 2.0 ** (np.log2(1600) + 0.1 * rng.normal(size=n))
    true_labels = base / 2.0 ** (1.0 + 0.1 * rng.normal(size=n))
    random_labels = true_labels * 2.0 ** (0.1 * rng.normal(size=n))
    return _grid([('phase', [0, 1, 2])], _ramp(np.stack([base, random_labels, true_labels]))), close

  said = [claims.evaluate(close, equal(16, rng)[0], in_sample=False).verdict for _ in range(100)]
  assert said.count(claims.REPRODUCED) > 80  # and it is said where it holds


# --- tuning inside the interval --------------------------------------------------------------------

def test_cross_fitted_tuning_holds_the_level_where_tuning_on_the_same_seeds_does_not():
  """a is tuned over 8 learning rates that are all equally good, b is one setting as good as them: tuned
  on the seeds it is then measured on, a looks better by the luck of the best of 8 (the in-sample
  interval misses 0 far too often); tuned on the other half of the seeds, it does not."""
  claim = dict(kind='better', metric='test_acc', a={'dataset_size': 64}, b={'dataset_size': 0, 'lr': 0.1}, at='final')
  lrs = np.round(0.1 * 1.2 ** np.arange(8), 6)

  def make(n, rng):
    metric = 0.7 + 0.05 * rng.normal(size=(8, 2, n))  # [lr, dataset_size, S]: no effect anywhere
    return _grid([('lr', lrs), ('dataset_size', [64, 0])], np.repeat(metric[..., None], 2, -1), 'test_acc'), claim

  rng = np.random.default_rng(8)
  crossed, in_sample, estimates = [], [], []
  for _ in range(600):
    v = claims.evaluate(claim, make(8, rng)[0])
    crossed.append(v.low <= 0 <= v.high)
    in_sample.append(v.in_sample[1] <= 0 <= v.in_sample[3])
    estimates.append((v.estimate, v.in_sample[2]))
  assert 0.93 <= np.mean(crossed) <= 0.97 and np.mean(in_sample) < 0.92, (np.mean(crossed), np.mean(in_sample))
  crossed_mean, in_sample_mean = np.mean(estimates, axis=0)
  assert abs(crossed_mean) < 0.005 < in_sample_mean  # in-sample tuning flatters a; cross-fitting does not
  v = claims.evaluate(claim, make(8, rng)[0])
  assert v.tuning == 'cross-fitted' and len(v.chosen['dataset_size=64']) == 2  # one choice per half


def test_cross_fitted_tuning_covers_a_real_effect():
  """With an effect of 0.03 at every one of 8 lrs (one of them 0.03 better still), the cross-fitted
  interval of the tuned series covers the effect at the lr each half chose, at its level."""
  claim = dict(kind='better', metric='test_acc', a={'dataset_size': 64}, b={'dataset_size': 0, 'lr': 0.1}, at='final')
  lrs = np.round(0.1 * 1.2 ** np.arange(8), 6)
  truth_at = np.full(8, 0.03)
  truth_at[3] = 0.06

  def make(n, rng):
    metric = 0.7 + 0.05 * rng.normal(size=(8, 2, n))
    metric[:, 0] += truth_at[:, None]
    return _grid([('lr', lrs), ('dataset_size', [64, 0])], np.repeat(metric[..., None], 2, -1), 'test_acc')

  rng = np.random.default_rng(9)
  covered = []
  for _ in range(600):
    v = claims.evaluate(claim, make(16, rng), in_sample=False)
    # each half's numbers come from the lr tuned on the other half: their expected mean is the mean truth there
    picked = [truth_at[list(lrs).index(c['lr'])] for c in v.chosen['dataset_size=64']]
    covered.append(v.low <= np.mean(picked) <= v.high)
  assert 0.93 <= np.mean(covered) <= 0.97, np.mean(covered)


def test_a_figures_band_is_the_verdicts_t_interval_seed_by_seed_position():
  """The bands and error bars of figures are the t interval the verdicts use, over each position's finite
  seeds (a diverged seed drops out of that position only), and nothing where fewer than 2 are finite."""
  rng = np.random.default_rng(3)
  curves = rng.normal(size=(6, 5))  # [seeds, evaluations]
  curves[2, 1] = np.nan
  curves[:5, 4] = np.nan
  low, mean, high = stats.t_bands(curves, axis=0)
  for e in range(4):
    expected = stats.t_interval(curves[:, e])
    assert (low[e], mean[e], high[e]) == pytest.approx(expected[:3])
  assert np.isnan(low[4]) and np.isnan(high[4]) and mean[4] == curves[5, 4]
  coverage = np.mean([(lambda b: b[0] <= 0.3 <= b[2])(stats.t_bands(rng.normal(0.3, 1, size=(4, 1)), axis=0))
                      for _ in range(2000)])
  assert 0.93 <= coverage <= 0.97  # 4 seeds: where the percentile bootstrap the figures drew covered 79%
