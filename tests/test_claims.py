"""Seed uncertainty and the claims decided with it, on synthetic grids whose answer is known (the
calibration of every kind's interval is tests/test_calibration.py)."""

import json

import numpy as np
import pytest

from sslgap import claims
from sslgap import results
from sslgap import series
from sslgap import stats


def test_bootstrap_intervals_cover_a_known_mean_at_about_the_nominal_rate():
  rng = np.random.default_rng(0)
  trials = rng.normal(loc=3.0, scale=2.0, size=(400, 32))  # 400 experiments of 32 seeds, at once
  low, mid, high = stats.bootstrap(trials, np.mean, n=1000, ci=0.95)
  covered = np.mean((low <= 3.0) & (3.0 <= high))
  assert 0.9 <= covered <= 0.99, covered  # the percentile bootstrap runs slightly narrow at 32 seeds
  np.testing.assert_allclose(mid, trials.mean(axis=1))
  assert np.all(low <= mid) and np.all(mid <= high)
  low80, _, high80 = stats.bootstrap(trials, np.mean, n=1000, ci=0.8)
  assert np.mean(high80 - low80) < np.mean(high - low)  # a lower level, a narrower interval


def test_censored_steps_to_target_keep_the_runs_that_never_arrive():
  steps = np.array([0, 10, 20, 30])
  curves = np.array([[0.1, 0.5, 0.95, 0.99],  # reaches 0.9 at step 20
                     [0.1, 0.2, 0.3, 0.4],  # never
                     [0.9, 0.9, 0.9, 0.9],  # at step 0
                     [0.1, 0.2, 0.3, 0.4]])  # never
  first = stats.first_step(curves, steps, 0.9)
  assert first.tolist() == [20, np.inf, 0, np.inf]
  assert stats.censored_median(first[:3]) == 20  # one of three censored: the median is still known
  assert stats.censored_median(first) == np.inf  # half censored: "more than the last step"
  np.testing.assert_allclose(stats.success_probability(curves[:, None, :], 0.9, axis=0)[0], [0.25, 0.25, 0.5, 0.5])
  r = results.Results(['seed'], {'seed': np.arange(4)}, steps, {'acc': curves}, config={'train': {}})
  assert np.isnan(r.steps_to_target('acc', 0.9)[1]) and np.isinf(r.steps_to_target('acc', 0.9, censored=True)[1])
  low, median, high = r.median_steps_to_target('acc', 0.9, n=200)
  assert r.median_steps_to_target('acc', 0.9, n=200).mid == median  # by name too
  assert median == np.inf and low <= 20


def _grid(curve_a, curve_b, noise, seeds=16, seed=0):
  """A grid with axes (dataset_size, seed): 'a' is dataset_size=64, 'b' is online; curves [E]."""
  rng = np.random.default_rng(seed)
  steps = np.arange(0, 110, 10)
  values = np.stack([np.asarray(curve_a)[None] + noise * rng.normal(size=(seeds, len(steps))),
                     np.asarray(curve_b)[None] + noise * rng.normal(size=(seeds, len(steps)))])
  config = {'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}}
  return results.Results(['dataset_size', 'seed'], {'dataset_size': np.array([64, 0]), 'seed': np.arange(seeds)},
                         steps, {'test_acc': np.clip(values, 0, 1)}, config)


RISE = np.clip(np.linspace(0.5, 1.5, 11), 0, 1)  # reaches 0.9 at step 40
SLOW = np.clip(np.linspace(0.5, 1.0, 11), 0, 1)  # at step 80
# The synthetic grids have no lr axis: their claims are at a fixed lr by construction.
FASTER = dict(kind='faster', metric='test_acc', target=0.9, a={'dataset_size': 64}, b={'dataset_size': 'online'},
              fixed_lr=True)
REPRODUCED, OPPOSITE, UNDETERMINED = claims.REPRODUCED, claims.OPPOSITE, claims.UNDETERMINED


@pytest.mark.parametrize('a,b,noise,outcome', [
    (RISE, SLOW, 0.01, REPRODUCED),
    (SLOW, RISE, 0.01, OPPOSITE),
    (RISE, RISE, 0.3, UNDETERMINED),
])
def test_faster(a, b, noise, outcome):
  grid = _grid(a, b, noise)
  v = claims.evaluate(FASTER, grid)
  assert v.verdict == outcome, v.describe()
  times = stats.crossing_step(grid['test_acc'], grid.eval_steps, 0.9)  # [dataset_size, seed], interpolated
  restricted = np.clip(times, 5, 100)
  assert v.estimate == pytest.approx(np.mean(np.log2(restricted[1] / restricted[0])))  # the number is the grid's


def test_crossings_are_interpolated_between_evaluations():
  steps = np.array([0, 10, 20, 30])
  curves = np.array([[0.1, 0.5, 0.95, 0.99],  # crosses 0.9 between steps 10 and 20, at 18.9
                     [0.1, 0.2, 0.3, 0.4],  # never: +inf
                     [0.9, 0.9, 0.9, 0.9]])  # at the start
  np.testing.assert_allclose(stats.crossing_step(curves, steps, 0.9), [10 + 10 * 0.4 / 0.45, np.inf, 0])
  np.testing.assert_allclose(stats.crossing_step(1 - curves, steps, 0.1, above=False)[0], 10 + 10 * 0.4 / 0.45)


def test_a_time_never_reached_counts_as_the_horizon_and_is_counted():
  """No seed is dropped and no interval end is a convention: a run that never reaches the target takes
  the last step (so the effect is understated), and each series says how many of its seeds did so."""
  never = np.full(11, 0.6)
  grid = _grid(RISE, never, 0.01)
  v = claims.evaluate(FASTER, grid)
  assert v.verdict == REPRODUCED and v.censored == {'dataset_size=64': 0, 'dataset_size=online': 16}
  assert v.estimate == pytest.approx(np.log2(100 / 40), abs=0.05)  # b at the horizon, 100 steps
  both = claims.evaluate(FASTER, _grid(never, never, 0.01))
  assert both.verdict == UNDETERMINED and both.reason == claims.CENSORED  # a longer horizon would decide
  assert np.isfinite(both.low) and np.isfinite(both.high)


def _heatmap(gap_outside, gap_inside, noise, seeds=16):
  """Axes (scale, dataset_size, seed): a (64) is 0.9 everywhere; b (online) is 0.9 - gap, where the
  region is scale >= 2."""
  rng = np.random.default_rng(1)
  scales = np.array([0.5, 1.0, 2.0, 4.0])
  gap = np.where(scales >= 2, gap_inside, gap_outside)
  final = np.stack([np.full((4, seeds), 0.9), 0.9 - gap[:, None] + 0 * np.arange(seeds)], axis=1)
  final = final + noise * rng.normal(size=final.shape)
  values = np.repeat(final[..., None], 3, axis=-1)
  return results.Results(['scale', 'dataset_size', 'seed'],
                         {'scale': scales, 'dataset_size': np.array([64, 0]), 'seed': np.arange(seeds)},
                         np.array([0, 10, 20]), {'test_acc': values}, {'train': {'batch_size': 8}, 'data': {}, 'hp': {}})


@pytest.mark.parametrize('outside,inside,noise,verdict', [
    (0.3, 0.0, 0.005, REPRODUCED),  # the region keeps none of the 0.3 gap at the baseline cell
    (0.3, 0.2, 0.005, OPPOSITE),  # it keeps two thirds: more than half
    (0.3, 0.12, 0.3, UNDETERMINED),
])
def test_closes(outside, inside, noise, verdict):
  """Closes: the gap left in the region is below half the gap at the baseline cell (scale 1, outside)."""
  claim = dict(kind='closes', metric='test_acc', a={'dataset_size': 64}, b={'dataset_size': 'online'},
               region={'scale': ['>=', 2.0]}, baseline={'scale': 1.0}, fixed_lr=True)
  assert claims.evaluate(claim, _heatmap(outside, inside, noise)).verdict == verdict


def test_closing_a_gap_that_is_not_there_is_not_reproduced():
  claim = dict(kind='closes', metric='test_acc', a={'dataset_size': 64}, b={'dataset_size': 'online'},
               region={'scale': ['>=', 2.0]}, baseline={'scale': 1.0}, fixed_lr=True)
  v = claims.evaluate(claim, _heatmap(0.0, 0.0, 0.005))
  assert v.verdict == UNDETERMINED and v.reason == claims.NO_BASELINE


def _power_law(exponent, noise, seeds=16):
  rng = np.random.default_rng(2)
  sizes = np.array([64, 128, 256, 512, 1024])
  t = sizes[:, None] ** exponent * np.exp(noise * rng.normal(size=(5, seeds)))
  values = np.repeat(t[..., None], 2, axis=-1)
  return results.Results(['dataset_size', 'seed'], {'dataset_size': sizes, 'seed': np.arange(seeds)},
                         np.array([0, 10]), {'t1': values}, {})


@pytest.mark.parametrize('exponent,noise,verdict', [(0.5, 0.05, REPRODUCED), (1.0, 0.05, OPPOSITE),
                                                    (0.5, 3.0, UNDETERMINED)])
def test_slope(exponent, noise, verdict):
  """A bound (Theorem 1: steps grow no faster than sqrt(N)): at most 0.6 here."""
  claim = dict(kind='slope', metric='t1', best='min', x_axis='dataset_size', at_most=0.6, series={}, fixed_lr=True)
  v = claims.evaluate(claim, _power_law(exponent, noise))
  assert v.verdict == verdict, v.describe()


def _optimum(best_a, best_b, noise, seeds=16):
  """Axes (mult, dataset_size, seed): each series peaks at its best multiplier."""
  rng = np.random.default_rng(3)
  mults = np.array([0.5, 1.0, 2.0, 4.0, 8.0])
  peak = lambda best: 0.9 - 0.1 * np.abs(np.log2(mults) - np.log2(best))
  final = np.stack([peak(best_a), peak(best_b)], axis=1)[..., None] + noise * rng.normal(size=(5, 2, seeds))
  return results.Results(['mult', 'dataset_size', 'seed'],
                         {'mult': mults, 'dataset_size': np.array([64, 0]), 'seed': np.arange(seeds)},
                         np.array([0, 10]), {'test_acc': np.repeat(final[..., None], 2, axis=-1)}, {})


@pytest.mark.parametrize('best_a,best_b,noise,seeds,verdict', [
    (1.0, 4.0, 0.005, 16, REPRODUCED), (4.0, 1.0, 0.005, 16, OPPOSITE), (2.0, 2.0, 0.2, 4, UNDETERMINED),
    (2.0, 2.0, 0.2, 16, claims.SMALLER)])  # the same optimum: any difference bounded below a factor 1.25
def test_argmax(best_a, best_b, noise, seeds, verdict):
  claim = dict(kind='argmax', metric='test_acc', axis='mult', a={'dataset_size': 64}, b={'dataset_size': 'online'},
               fixed_lr=True)
  assert claims.evaluate(claim, _optimum(best_a, best_b, noise, seeds)).verdict == verdict


def test_the_best_value_of_each_seed_is_refined_between_grid_values():
  """Each seed's score is a parabola in log2 of the axis with its peak at 2^1.4 (between 2 and 4): the
  refined argmax finds it, where the grid's own argmax could only say 2 or 4."""
  log_x = np.log2([0.5, 1, 2, 4, 8])
  scores = -(log_x[:, None] - np.array([1.4, 0.3, 2.4])[None]) ** 2  # [X, 3 seeds]
  np.testing.assert_allclose(claims._refined_argmax(scores, log_x), [1.4, 0.3, 2.4])
  edge = -(log_x[:, None] - 5.0) ** 2  # the peak beyond the grid: the edge, no extrapolation
  assert claims._refined_argmax(edge, log_x)[0] == 3.0


def _gaps(gaps, noise, seeds=16):
  rng = np.random.default_rng(4)
  depths = np.array([1, 2, 3])
  final = np.stack([np.full(3, 0.9), 0.9 - np.asarray(gaps)], axis=1)[..., None] + noise * rng.normal(size=(3, 2, seeds))
  return results.Results(['depth', 'dataset_size', 'seed'],
                         {'depth': depths, 'dataset_size': np.array([64, 0]), 'seed': np.arange(seeds)},
                         np.array([0, 10]), {'test_acc': np.repeat(final[..., None], 2, axis=-1)}, {})


@pytest.mark.parametrize('gaps,noise,verdict', [((0.0, 0.1, 0.3), 0.01, REPRODUCED), ((0.3, 0.1, 0.0), 0.01, OPPOSITE),
                                                ((0.1, 0.1, 0.1), 0.2, UNDETERMINED)])
def test_trend(gaps, noise, verdict):
  claim = dict(kind='trend', metric='test_acc', x_axis='depth', a={'dataset_size': 64}, b={'dataset_size': 'online'},
               fixed_lr=True)
  assert claims.evaluate(claim, _gaps(gaps, noise)).verdict == verdict


def test_series_tune_other_axes_per_series_on_the_seed_mean():
  steps = np.array([0, 10])
  values = np.zeros((2, 2, 3, 2))  # dataset_size, lr, seed, E
  values[0, 1] = 0.9  # N = 64 is best at lr index 1
  values[1, 0] = 0.8  # online at lr index 0
  r = results.Results(['dataset_size', 'lr', 'seed'], {'dataset_size': np.array([64, 0]), 'lr': np.array([0.1, 0.2]),
                                                       'seed': np.arange(3)}, steps, {'test_acc': values}, {})
  values_a, chosen_a = series.tuned(r, {'dataset_size': 64}, 'test_acc')
  _, chosen_b = series.tuned(r, {'dataset_size': 'online'}, 'test_acc')
  assert chosen_a == {'lr': 0.2} and chosen_b == {'lr': 0.1} and values_a.shape == (3, 2)


def test_claims_survive_the_npz_round_trip(tmp_path):
  r = _grid(RISE, SLOW, 0.01)
  config = dict(r.config, claims=[FASTER])
  path = tmp_path / 'g.npz'
  results.save(str(path), [('dataset_size', [64, 'online']), ('seed', list(range(16)))], r.eval_steps, r.metrics,
               json.dumps(config))
  verdicts = claims.evaluate_all(results.load(path))
  assert [v.verdict for v in verdicts] == [REPRODUCED]


def test_an_unknown_claim_kind_is_named():
  with pytest.raises(ValueError, match="unknown kind 'sooner'"):
    claims.evaluate(dict(kind='sooner', text='x'), _grid(RISE, SLOW, 0.01))


def test_a_claim_per_value_of_an_axis_is_checked_at_each():
  values = np.zeros((2, 2, 16, 11))  # lr, dataset_size, seed, E
  values[0, 0] = RISE  # at lr 0.1 the subset is fast, online slow
  values[0, 1] = SLOW
  values[1, 0] = SLOW  # at lr 0.2 the reverse
  values[1, 1] = RISE
  r = results.Results(['lr', 'dataset_size', 'seed'], {'lr': np.array([0.1, 0.2]), 'dataset_size': np.array([64, 0]),
                                                       'seed': np.arange(16)}, np.arange(0, 110, 10),
                      {'test_acc': values}, {'claims': [dict(FASTER, per='lr', text='t')]})
  verdicts = claims.evaluate_all(r)
  assert [v.verdict for v in verdicts] == [REPRODUCED, OPPOSITE]
  assert [v.claim['text'] for v in verdicts] == ['t [lr = 0.1]', 't [lr = 0.2]']


def test_tuning_never_picks_a_setting_where_a_seed_diverged():
  values = np.full((2, 4, 2), 0.6)  # lr, seed, E
  values[1] = 0.7  # lr 0.2 is better on average ...
  values[1, 1:, -1] = np.nan  # ... but three of its seeds diverged at the end
  r = results.Results(['lr', 'seed'], {'lr': np.array([0.1, 0.2]), 'seed': np.arange(4)}, np.array([0, 10]),
                      {'test_acc': values}, {})
  assert series.tuned(r, {}, 'test_acc')[1] == {'lr': 0.1}
