"""What sslgap found, as the reader gets it: flags that keep the counts honest, cross-fitted tuning,
the findings table of a report and of README, each checked against grids whose answer is known."""

import os

import numpy as np

from sslgap import catalog
from sslgap import claims
from sslgap import findings
from sslgap import report
from sslgap import results
from sweep_cli import ROOT

STEPS = np.arange(0, 110, 10)


def _grid(a, b, seeds=8, noise=0.0, mode='minibatch', examples=None, axes=None, seed=0):
  """(dataset_size [64, online], seed) grid of test_acc with curves a, b ([E], or [X, E] over an lr axis)."""
  rng = np.random.default_rng(seed)
  a, b = np.asarray(a, float), np.asarray(b, float)
  values = np.stack([a, b])[..., None, :] + noise * rng.normal(size=np.stack([a, b]).shape[:-1] + (seeds, len(STEPS)))
  names = ['dataset_size'] + list(axes or {}) + ['seed']
  coords = {'dataset_size': np.array([64, 0]), **{k: np.asarray(v) for k, v in (axes or {}).items()},
            'seed': np.arange(seeds)}
  r = results.Results(names, coords, STEPS, {'test_acc': np.clip(values, 0, 1)},
                      {'train': {'batch_size': 8}, 'data': {'mode': mode}, 'hp': {}})
  return r.with_examples(examples) if examples is not None else r


RISE = np.clip(np.linspace(0.5, 1.5, 11), 0, 1)  # reaches 0.9 at step 40
SLOW = np.clip(np.linspace(0.5, 1.0, 11), 0, 1)  # at step 80
FLAT = np.full(11, 0.5)
A, B = {'dataset_size': 64}, {'dataset_size': 'online'}


def _flags(claim, grid):
  return claims.evaluate(claim, grid, n=300).flag_names


def test_a_time_to_a_target_neither_series_reaches_is_flagged_not_reached():
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B)
  assert _flags(claim, _grid(FLAT, FLAT)) == (claims.NOT_REACHED,)
  assert _flags(claim, _grid(RISE, SLOW)) == ()


def test_a_compute_claim_won_by_fewer_examples_per_step_is_flagged_by_construction():
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, x='compute')
  per_step = np.array([64.0, 4096.0])[:, None, None] * STEPS  # full-batch GD on 64 against 4,096 examples
  v = claims.evaluate(claim, _grid(SLOW, RISE, mode='full_batch', examples=per_step), n=300)
  assert v.verdict == claims.AGREES and v.flag_names == (claims.BY_CONSTRUCTION,)  # slower in steps, "faster" in compute
  assert '64x the examples' in v.flags[0][1]
  same = np.broadcast_to(STEPS * 8.0, (1, 1, len(STEPS)))
  assert _flags(claim, _grid(RISE, SLOW, examples=same)) == ()


def test_an_end_where_both_series_are_saturated_is_flagged_at_the_ceiling():
  claim = dict(kind='better', metric='test_acc', a=A, b=B)
  assert _flags(claim, _grid(RISE, RISE)) == (claims.CEILING,)
  assert _flags(claim, _grid(RISE, SLOW * 0.9)) == ()
  assert _flags(dict(claim, at='mean'), _grid(RISE, RISE)) == ()  # the mean over training is not at a ceiling


def test_an_optimum_at_the_edge_of_its_grid_is_flagged():
  lrs = [0.1, 0.2, 0.4]
  best_at = lambda i: np.stack([RISE if j == i else SLOW * 0.8 for j in range(3)])  # [X, E]
  claim = dict(kind='argmax', metric='test_acc', axis='lr', a=A, b=B, direction='larger')
  assert _flags(claim, _grid(best_at(1), best_at(2), axes={'lr': lrs})) == (claims.GRID_EDGE,)
  assert _flags(claim, _grid(best_at(1), best_at(1), axes={'lr': lrs})) == ()


def test_cross_fitting_tunes_on_the_other_half_of_the_seeds():
  """Even seeds favour lr 0.1 and odd seeds lr 0.2 for a: tuned on themselves the odd seeds pick 0.2
  and a wins; tuned on the even seeds they are held to 0.1, where a loses."""
  seeds = 8
  values = np.empty((2, 2, seeds, len(STEPS)))
  values[0, 0] = np.where(np.arange(seeds)[:, None] % 2 == 0, RISE, FLAT)  # a at lr 0.1
  values[0, 1] = np.where(np.arange(seeds)[:, None] % 2 == 1, RISE, FLAT)  # a at lr 0.2
  values[1] = SLOW * 0.9  # b at both
  grid = results.Results(['dataset_size', 'lr', 'seed'], {'dataset_size': np.array([64, 0]), 'lr': np.array([0.1, 0.2]),
                                                         'seed': np.arange(seeds)}, STEPS, {'test_acc': values},
                         {'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}})
  claim = dict(kind='better', metric='test_acc', a=A, b=B)
  v = claims.evaluate(claim, grid, n=300, cross_fit=True)
  assert v.cross_fitted == (claims.AGREES, claims.DISAGREES)
  assert claims.evaluate(claim, grid, n=300).cross_fitted is None  # only when asked (the report asks)


def _entry(experiment, verdicts):
  return report.Entry(experiment, 'small', '', 'g.npz', 1.0, verdicts=verdicts)


def test_the_findings_of_a_report_are_what_its_claims_say():
  """Two tiny experiments: one whose main claim agrees (and a second claim that does not count), one
  whose main claim is checked at two values with one agreeing."""
  grid = _grid(RISE, SLOW, noise=0.01)
  faster = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, text='Small beats online.')
  first = claims.evaluate(faster, grid, n=300)
  slower = claims.evaluate(dict(faster, a=B, b=A, text='Online beats small.'), grid, n=300)
  two = _grid(np.stack([RISE, RISE]), np.stack([SLOW, RISE]), noise=0.01, axes={'lr': [0.1, 0.2]})
  per_lr = [claims.evaluate(c, two, n=300) for c in claims.expand(dict(faster, per='lr'), two)]
  assert [v.verdict for v in per_lr] == [claims.AGREES, claims.INCONCLUSIVE]
  one = catalog.Experiment('one', '1', 'learning_curves', 'one', (('small', ''),))
  other = catalog.Experiment('two', '2', 'learning_curves', 'two', (('small', ''),))
  rows = findings.of_entries([_entry(one, [first, slower]), _entry(other, per_lr)])
  assert [(r['id'], r['outcome'], r['claim']) for r in rows] == [
      ('one', findings.REPRODUCED, 'Small beats online.'), ('two', findings.UNRESOLVED, 'Small beats online.')]
  assert rows[0]['number'] == f'{first.statistic} {claims.fmt_interval(first.low, first.estimate, first.high)}'
  assert rows[1]['number'] == '1 of 2 values agree, 0 disagree'
  text = report.markdown([_entry(one, [first, slower]), _entry(other, per_lr)], 'small', 'a CPU', 300, 'cmd',
                         {'medium': 'M.md'})
  assert '## Findings' in text and '| 1 | `one` | **reproduced**: Small beats online.' in text
  assert 'checked at each of 2 values](#two)' in text and 'The `medium` report: [M.md](M.md).' in text
  flagged = claims.evaluate(dict(faster, target=2.0), grid, n=300)  # never reached
  assert findings.of_entries([_entry(one, [flagged])])[0]['qualified_by'] == claims.NOT_REACHED


def test_a_larger_scale_supersedes_a_smaller_one_in_the_readme_table():
  small = [{'id': 'x', 'figure': '1', 'scale': 'small', 'claim': 'c', 'outcome': 'unresolved', 'number': 'n'},
           {'id': 'y', 'figure': '2', 'scale': 'small', 'claim': 'd', 'outcome': 'reproduced', 'number': 'm'}]
  medium = [dict(small[0], scale='medium', outcome='not reproduced')]
  rows = findings.merged({'small': small, 'medium': medium})
  assert [(r['id'], r['scale'], r['outcome']) for r in rows] == [('x', 'medium', 'not reproduced'),
                                                                ('y', 'small', 'reproduced')]
  table = findings.table(rows, {'small': 'S.md', 'medium': 'M.md'})
  assert '[medium](M.md#x)' in table and '1 reproduced, 1 not reproduced, 0 unresolved' in table


def test_readme_carries_the_findings_the_reports_json_says():
  with open(os.path.join(ROOT, 'README.md')) as f:
    readme = f.read()
  section = findings.readme_section(findings.REPORTS, ROOT)
  assert findings.update_readme(readme, section) == readme, 'README is stale: python -m sslgap.findings'
  small = findings.read(os.path.join(ROOT, 'docs', 'REPRODUCTION.json'))
  assert {r['id'] for r in small} == {e.id for e in catalog.for_scale('small')}
  assert readme.index('## What we found') < readme.index('## On a GPU')


def test_the_scales_side_by_side_set_each_experiments_findings_together_and_say_where_they_differ():
  row = lambda i, outcome, number: {'id': i, 'figure': i[-1], 'outcome': outcome, 'number': number}
  small = [row('fig_a', findings.UNRESOLVED, '0 [-1, 1]'), row('fig_b', findings.REPRODUCED, '2 [1, 3]'),
           row('fig_c', findings.REPRODUCED, '1 [0.5, 2]')]
  medium = [row('fig_a', findings.NOT_REPRODUCED, '-1 [-2, -0.5]'), row('fig_b', findings.REPRODUCED, '3 [2, 4]'),
            row('fig_d', findings.REPRODUCED, '1 [1, 1]')]
  text = findings.tiers_table({'small': small, 'medium': medium}, {'small': '', 'medium': 'M.md'})
  lines = text.splitlines()
  assert lines[0] == '| fig | experiment | small | medium | |'
  assert lines[2] == ('| a | `fig_a` | [**unresolved**](#fig_a): 0 [-1, 1] | '
                      '[**not reproduced**](M.md#fig_a): -1 [-2, -0.5] | differs |')
  assert lines[3].endswith('| [**reproduced**](M.md#fig_b): 3 [2, 4] |  |')  # the same finding: no mark
  assert not any('fig_c' in line or 'fig_d' in line for line in lines)  # one scale only
  assert lines[-1] == '2 experiments at more than one scale; the finding differs for 1.'
  assert findings.tiers_table({'small': small}, {'small': ''}) == ''
