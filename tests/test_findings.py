"""What sslgap found, as the reader gets it: flags that qualify any outcome, the headline of each
experiment (the paper's own sentence), numbers as sentences, the findings table of a report and of
README, each checked against grids whose answer is known."""

import os

import numpy as np
import pytest

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
FIXED = dict(fixed_lr=True)  # these grids run one lr by construction


def _flags(claim, grid):
  return claims.evaluate(claim, grid).flag_names


def test_a_time_neither_series_reaches_is_censored_not_a_convention():
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, **FIXED)
  v = claims.evaluate(claim, _grid(FLAT, FLAT))
  assert v.verdict == claims.UNDETERMINED and v.reason == claims.CENSORED
  assert findings.why(v).startswith('censored: too many seeds never reached the target; a longer horizon')
  assert claims.evaluate(claim, _grid(RISE, SLOW)).verdict == claims.REPRODUCED


def test_a_compute_claim_won_by_fewer_examples_per_step_is_flagged_by_construction():
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, x='compute', **FIXED)
  per_step = np.array([64.0, 4096.0])[:, None, None] * STEPS  # full-batch GD on 64 against 4,096 examples
  v = claims.evaluate(claim, _grid(SLOW, RISE, mode='full_batch', examples=per_step, noise=0.01))
  assert v.interval_says == claims.REPRODUCED and v.flag_names == (claims.BY_CONSTRUCTION,)  # slower in steps
  assert v.verdict == claims.UNDETERMINED and v.reason == claims.BY_CONSTRUCTION
  assert '64x the examples' in v.flags[0][1]
  same = np.broadcast_to(STEPS * 8.0, (1, 1, len(STEPS)))
  assert _flags(claim, _grid(RISE, SLOW, examples=same)) == ()


def test_an_end_where_every_metric_read_is_saturated_is_flagged_at_the_ceiling():
  claim = dict(kind='better', metric='test_acc', a=A, b=B, **FIXED)
  assert _flags(claim, _grid(RISE, RISE)) == (claims.CEILING,)
  assert _flags(claim, _grid(RISE, SLOW * 0.9)) == ()
  assert _flags(dict(claim, at='mean'), _grid(RISE, RISE)) == ()  # the mean over training is not at a ceiling


def test_a_derived_metric_is_at_the_ceiling_when_the_metrics_it_is_made_of_are():
  """overfit_acc = train - test is 0 when both are saturated: the ceiling flag reads train_acc and test_acc."""
  values = np.stack([RISE, RISE])[:, None, :].repeat(8, axis=1)
  r = results.Results(['dataset_size', 'seed'], {'dataset_size': np.array([64, 0]), 'seed': np.arange(8)}, STEPS,
                      {'train_acc': values, 'test_acc': values}, {'train': {}, 'data': {}, 'hp': {}})
  v = claims.evaluate(dict(kind='better', metric='overfit_acc', a=A, b=B, **FIXED), r)
  assert v.flag_names == (claims.CEILING,) and 'train_acc and test_acc' in v.flags[0][1]
  assert findings.sentence(v).startswith('every seed gives overfit_acc advantage of a 0')  # no "0 [0, 0]"


def test_a_tuned_value_at_the_edge_of_its_grid_is_flagged_and_qualifies_any_outcome():
  lrs = [0.1, 0.2, 0.4]
  best_at = lambda i, fast, slow: np.stack([fast if j == i else slow for j in range(3)])  # [X, E]
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B)
  inside = claims.evaluate(claim, _grid(best_at(1, RISE, FLAT), best_at(1, SLOW, FLAT), axes={'lr': lrs}, noise=0.01))
  assert inside.flags == () and inside.verdict == claims.REPRODUCED and inside.tuning == 'cross-fitted'
  edge = claims.evaluate(claim, _grid(best_at(1, SLOW, FLAT), best_at(2, RISE, FLAT), axes={'lr': lrs}, noise=0.01))
  assert edge.interval_says == claims.OPPOSITE and edge.verdict == claims.UNDETERMINED  # a "disagrees" too
  assert edge.reason == claims.GRID_EDGE and 'lr 0.4 for dataset_size=online' in edge.flags[0][1]


def test_an_axis_that_does_not_change_a_series_or_has_two_values_is_no_grid_edge():
  """b is the same at every value of a tuned axis (a tie: the first value wins, an end, but the axis does
  not matter to b); a two-valued axis other than a learning rate cannot show an interior optimum at all."""
  epochs = [2, 5, 10]
  a = np.stack([FLAT, RISE, FLAT])  # a is best in the middle
  b = np.stack([SLOW, SLOW, SLOW])  # b does not depend on it
  v = claims.evaluate(dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, **FIXED),
                      _grid(a, b, axes={'epochs': epochs}, noise=0.0))
  assert v.flags == () and v.verdict == claims.REPRODUCED and 'epochs' in v.tuned_axes
  two = claims.evaluate(dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, **FIXED),
                        _grid(np.stack([RISE, FLAT]), np.stack([SLOW, FLAT]), axes={'b2': [0.99, 0.999]}, noise=0.01))
  assert two.flags == () and two.verdict == claims.REPRODUCED


def test_an_equivalence_of_two_series_that_never_arrive_is_censored_not_reproduced():
  claim = dict(kind='as_fast', metric='test_acc', target=0.9, a=A, b=B, margin=0.25, **FIXED)
  v = claims.evaluate(claim, _grid(FLAT, FLAT, noise=0.001))
  assert v.interval_says == claims.UNDETERMINED and v.verdict == claims.UNDETERMINED and v.reason == claims.CENSORED


def test_one_learning_rate_is_flagged_unless_the_paper_fixes_it():
  claim = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B)
  v = claims.evaluate(claim, _grid(RISE, SLOW, noise=0.01))
  assert v.flag_names == (claims.LR_NOT_TUNED,) and v.verdict == claims.UNDETERMINED and v.tuning == 'not tuned'
  assert claims.evaluate(dict(claim, fixed_lr=True), _grid(RISE, SLOW, noise=0.01)).verdict == claims.REPRODUCED
  per_lr = claims.expand(dict(claim, per='lr'), _grid(np.stack([RISE, RISE]), np.stack([SLOW, SLOW]), axes={'lr': [0.1, 0.2]}))
  assert claims.evaluate(per_lr[0], _grid(np.stack([RISE, RISE]), np.stack([SLOW, SLOW]), axes={'lr': [0.1, 0.2]},
                                          noise=0.01)).flags == ()  # a claim at each lr says so itself


def test_an_underpowered_claim_says_how_many_seeds_would_decide_it():
  claim = dict(kind='better', metric='test_acc', a=A, b=B, **FIXED)
  v = claims.evaluate(claim, _grid(SLOW * 0.8 + 0.02, SLOW * 0.8, noise=0.15, seeds=8, seed=3))
  assert v.verdict == claims.UNDETERMINED and v.reason == claims.UNDERPOWERED and v.seeds_needed > 8
  assert findings.why(v) == f'underpowered: about {v.seeds_needed:,} seeds would decide it'


def test_cross_fitting_tunes_each_half_of_the_seeds_on_the_other():
  """Even seeds favour lr 0.1 and odd seeds lr 0.2 for a: tuned on themselves both halves would pick the
  lr where a wins; tuned on the other half each is held to the lr where a loses."""
  seeds = 8
  values = np.empty((2, 2, seeds, len(STEPS)))
  values[0, 0] = np.where(np.arange(seeds)[:, None] % 2 == 0, RISE, FLAT)  # a at lr 0.1
  values[0, 1] = np.where(np.arange(seeds)[:, None] % 2 == 1, RISE, FLAT)  # a at lr 0.2
  values[1] = SLOW * 0.9  # b at both
  grid = results.Results(['dataset_size', 'lr', 'seed'], {'dataset_size': np.array([64, 0]), 'lr': np.array([0.1, 0.2]),
                                                         'seed': np.arange(seeds)}, STEPS, {'test_acc': values},
                         {'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}})
  claim = dict(kind='better', metric='test_acc', a=A, b=B, at='mean')
  v = claims.evaluate(claim, grid)
  assert v.chosen['dataset_size=64'] == [{'lr': 0.2}, {'lr': 0.1}]  # the even half tuned on the odd, and back
  held_to_flat = np.mean(FLAT) - np.mean(SLOW * 0.9)  # each half at the lr where it is flat
  assert v.estimate == pytest.approx(held_to_flat) and v.in_sample[2] > v.estimate + 0.1


def _entry(experiment, verdicts, paper=None):
  return report.Entry(experiment, 'small', '', 'g.npz', 1.0, verdicts=verdicts, paper=paper, config_hash='abc')


def test_the_headline_is_the_claim_the_config_names_and_quotes():
  grid = _grid(RISE, SLOW, noise=0.01)
  faster = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, text='Small beats online.', name='faster',
                a_label='the subset', b_label='online training', **FIXED)
  first = claims.evaluate(faster, grid)
  other = claims.evaluate(dict(faster, a=B, b=A, text='Online beats small.', name='other'), grid)
  one = catalog.Experiment('one', '1', 'learning_curves', 'one', (('small', ''),))
  paper = dict(headline='faster', quote='smaller datasets lead to faster convergence', where='Section 3, Figure 1',
               departs='one lr')
  [row] = findings.of_entries([_entry(one, [other, first], paper)])
  assert row['outcome'] == findings.REPRODUCED and row['claim'] == 'Small beats online.'
  assert row['quote'] == paper['quote'] and row['where'] == paper['where'] and row['departs'] == 'one lr'
  assert row['config_hash'] == 'abc' and row['seeds'] == 8
  assert row['sentence'].startswith('the subset reaches 90% test accuracy 2x sooner than online training [')
  assert row['sentence'].endswith('(ratio of steps); 8 seeds, nothing tuned')
  text = findings.table([row], {'small': ''})
  assert '"smaller datasets lead to faster convergence" (Section 3, Figure 1)' in text and '| one lr |' in text


def test_a_claim_checked_at_several_values_gives_their_shared_outcome_or_mixed():
  two = _grid(np.stack([RISE, RISE]), np.stack([SLOW, RISE]), noise=0.01, axes={'lr': [0.1, 0.2]})
  faster = dict(kind='faster', metric='test_acc', target=0.9, a=A, b=B, text='Small beats online.', name='f')
  per_lr = [claims.evaluate(c, two) for c in claims.expand(dict(faster, per='lr'), two)]
  assert [v.verdict for v in per_lr][0] == claims.REPRODUCED and per_lr[1].verdict != claims.REPRODUCED
  one = catalog.Experiment('two', '2', 'learning_curves', 'two', (('small', ''),))
  [row] = findings.of_entries([_entry(one, per_lr, dict(headline='f'))])
  assert row['outcome'] == findings.UNDETERMINED and row['reason'].startswith('mixed: 1 of 2 values reproduced')
  slow = _grid(np.stack([SLOW, SLOW]), np.stack([SLOW, SLOW]), noise=0.01, axes={'lr': [0.1, 0.2]}, seeds=2)
  per_lr = [claims.evaluate(c, slow) for c in claims.expand(dict(faster, per='lr'), slow)]
  assert {v.verdict for v in per_lr} == {claims.UNDETERMINED}
  [row] = findings.of_entries([_entry(one, per_lr, dict(headline='f'))])
  assert row['reason'].endswith(': at each of the 2 values it is checked at'), row['reason']  # a reason, not counts
  assert findings.totals([row]).endswith(f"1 undetermined (1 {row['reason'].split(':')[0]})")


def _row(i, outcome, sentence, scale='small', figure=None, reason=''):
  return {'id': i, 'figure': figure or i[-1], 'scale': scale, 'claim': 'c', 'outcome': outcome, 'reason': reason,
          'sentence': sentence, 'quote': 'q', 'where': 'w', 'departs': 'd'}


def test_a_larger_scale_supersedes_a_smaller_one_in_the_readme_table():
  small = [_row('x', findings.UNDETERMINED, 'n', reason='underpowered'), _row('y', findings.REPRODUCED, 'm')]
  medium = [dict(small[0], scale='medium', outcome=findings.OPPOSITE, reason='')]
  rows = findings.merged({'small': small, 'medium': medium})
  assert [(r['id'], r['scale'], r['outcome']) for r in rows] == [('x', 'medium', findings.OPPOSITE),
                                                                ('y', 'small', findings.REPRODUCED)]
  table = findings.table(rows, {'small': 'S.md', 'medium': 'M.md'})
  assert '[medium](M.md#x)' in table
  assert findings.totals(rows) == "2 experiments: 1 reproduced, 0 smaller than the paper's, 1 opposite, 0 undetermined"
  assert findings.totals(small).endswith('1 undetermined (1 underpowered)')


def test_readme_lists_the_undecided_rows_apart_by_why_with_what_would_decide_each():
  """README's findings: the decided rows in full; the undetermined ones after them, grouped by the name of
  their reason, each linked to its report row, not their sentences (numbers that decide nothing), the
  design of a preset said once. A design's row written before rows carried what would decide them gets it
  from its own record."""
  edge = 'grid edge: tuned at an end of its grid (lr 0.8 for a; lr 0.8 for b): the optimum may lie beyond it'
  rows = [_row('x1', findings.REPRODUCED, 'sentence of x1'),
          dict(_row('y2', findings.UNDETERMINED, 'sentence of y2', reason='underpowered: 2 seeds, a verdict needs at '
                    'least 4'), to_decide=findings.to_decide('y2', 'underpowered')),
          dict(_row('z3', findings.UNDETERMINED, 'sentence of z3', scale='design', reason=edge), design={'seeds': 16}),
          dict(_row('w4', findings.UNDETERMINED, 'sentence of w4', reason=edge), to_decide=findings.to_decide('w4', edge))]
  text = findings.readme_tables(rows, {'small': 'S.md', 'design': 'D.md'})
  decided, undecided = text.split('**Not decided yet** (3)')
  assert 'sentence of x1' in decided and not any(i in decided for i in ('y2', 'z3', 'w4'))
  assert 'sentence of' not in undecided and undecided.count('a pilot of 4 seeds') == 1
  assert '- **underpowered** (1): [2](S.md#y2).' in undecided
  assert '- **grid edge** (2): [3](D.md#z3) (design; to decide: lrs past the end' in undecided
  assert '`python -m sslgap.design --only z3` into a fresh --out)), [4](S.md#w4).' in undecided
  assert undecided.index('grid edge') < undecided.index('underpowered')  # the commonest reason first
  assert 'Not decided' not in findings.readme_tables(rows[:1], {'small': 'S.md'})


def test_readme_carries_the_findings_the_reports_json_says():
  with open(os.path.join(ROOT, 'README.md')) as f:
    readme = f.read()
  section = findings.readme_section(findings.REPORTS, ROOT)
  assert findings.update_readme(readme, section) == readme, 'README is stale: python -m sslgap.findings'
  small = findings.read(os.path.join(ROOT, 'docs', 'REPRODUCTION.json'))
  assert {r['id'] for r in small} == {e.id for e in catalog.for_scale('small')}
  assert readme.index('## What we found') < readme.index('## On a GPU')


def test_the_scales_side_by_side_set_each_experiments_findings_together_and_say_where_they_differ():
  row = lambda i, outcome, number: _row(i, outcome, number)
  small = [row('fig_a', findings.UNDETERMINED, '0 [-1, 1]'), row('fig_b', findings.REPRODUCED, '2 [1, 3]'),
           row('fig_c', findings.REPRODUCED, '1 [0.5, 2]')]
  medium = [row('fig_a', findings.OPPOSITE, '-1 [-2, -0.5]'), row('fig_b', findings.REPRODUCED, '3 [2, 4]'),
            row('fig_d', findings.REPRODUCED, '1 [1, 1]')]
  text = findings.tiers_table({'small': small, 'medium': medium}, {'small': '', 'medium': 'M.md'})
  lines = text.splitlines()
  assert lines[0] == '| fig | experiment | small | medium | |'
  assert lines[2] == ('| a | `fig_a` | [**undetermined**](#fig_a): 0 [-1, 1] | '
                      '[**opposite**](M.md#fig_a): -1 [-2, -0.5] | differs |')
  assert lines[3].endswith('| [**reproduced**](M.md#fig_b): 3 [2, 4] |  |')  # the same finding: no mark
  assert not any('fig_c' in line or 'fig_d' in line for line in lines)  # one scale only
  assert lines[-1] == '2 experiments at more than one scale; the finding differs for 1.'
  assert findings.tiers_table({'small': small}, {'small': ''}) == ''


def test_every_findings_row_comes_from_the_config_it_names():
  """Each row records the config hash of the grid it came from: a preset (or a design) changed since the
  report was written fails here, naming the row, until the report is generated again."""
  from sslgap import config as config_lib
  from sslgap import design
  checked = 0
  for scale, rows in findings.rows_of(findings.REPORTS, ROOT).items():
    for row in rows:
      experiment = catalog.BY_ID[row['id']]
      if scale == 'design':
        config = design.confirmation_config(catalog.load_config(experiment, row['design']['scale']), row['design'])
      else:
        config = catalog.load_config(experiment, scale)
      assert row['config_hash'] == results.config_hash(config_lib.to_json(config)), (
          f'{row["id"]} ({scale}): its grid was made by another config than today\'s; python -m sslgap.reproduce '
          f'--scale {scale} runs it again')
      checked += 1
  assert checked >= len(catalog.for_scale('small'))


def test_a_changed_config_is_caught_by_its_findings_row(monkeypatch):
  row = {'id': 'fig14_full_parity', 'config_hash': results.config_hash(
      __import__('sslgap.config', fromlist=['to_json']).to_json(catalog.load_config(catalog.BY_ID['fig14_full_parity'],
                                                                                   'small')))}
  original = catalog.load_config

  def more_seeds(experiment, scale):
    config = original(experiment, scale)
    config.sweep.seed = tuple(range(16))
    return config

  monkeypatch.setattr(catalog, 'load_config', more_seeds)
  from sslgap import config as config_lib
  assert row['config_hash'] != results.config_hash(config_lib.to_json(catalog.load_config(
      catalog.BY_ID['fig14_full_parity'], 'small')))


def test_a_design_row_says_its_own_seeds_and_lrs_in_place_of_the_presets():
  departs = findings.design_departs({'seeds': 35, 'lrs': [0.2, 0.28, 0.4, 0.57, 0.8], 'steps': 3000},
                                    '2 hidden layers of 64; one lr, 0.1; 8 seeds, 3,000 steps; the phases are our guess')
  assert departs == ('sized by a design: 35 seeds, lr tuned over 5 values (0.2 to 0.8), 3,000 steps; '
                     '2 hidden layers of 64; the phases are our guess')


def test_an_undetermined_row_says_what_would_decide_it():
  """A preset's row names the design that sizes it; a design's row what its record says it lacked; both
  show in the table after the sentence. A decided row says nothing of the kind."""
  grid = _grid(SLOW * 0.8 + 0.02, SLOW * 0.8, noise=0.15, seeds=2, seed=3)
  claim = dict(kind='better', metric='test_acc', a=A, b=B, name='b', **FIXED)
  v = claims.evaluate(claim, grid)
  assert v.verdict == claims.UNDETERMINED and v.reason == claims.UNDERPOWERED
  one = catalog.Experiment('one', '1', 'learning_curves', 'one', (('small', ''),))
  [row] = findings.of_entries([_entry(one, [v], dict(headline='b'))])
  assert row['to_decide'].startswith('`python -m sslgap.design --only one` (a pilot of 4 seeds')
  assert f'nothing tuned. To decide: {row["to_decide"]} |' in findings.table([row], {'small': ''}, short=True)
  design = {'seeds': 18, 'note': 'underpowered at this budget: needs 162 seeds, about 3.0 h (the budget, 20 min, '
            'pays for 18)'}
  assert findings.to_decide('w', 'underpowered: about 162 seeds would decide it', design) == \
      '162 seeds, about 3.0 h on the machine that ran it (the budget paid for 18)'
  assert findings.to_decide('w', 'grid edge: tuned at an end', {'seeds': 16}).startswith('lrs past the end')
  assert findings.to_decide('w', 'at the ceiling: both at 1', None).startswith('a harder task')
  decided = claims.evaluate(dict(claim, kind='faster', target=0.9), _grid(RISE, SLOW, noise=0.01))
  [row] = findings.of_entries([_entry(one, [decided], dict(headline='b'))])
  assert row['outcome'] == findings.REPRODUCED and 'to_decide' not in row


def test_a_decided_row_on_fewer_seeds_than_a_design_confirms_on_says_how_to_confirm_it():
  """A verdict on 4 seeds holds its level, but a findings row resting on them says so and names the design
  that would confirm it; a row on 16 seeds, or a design's, says nothing of the kind."""
  few = dict(_row('x1', findings.REPRODUCED, 'sentence of x1'), seeds=4)
  enough = dict(_row('y2', findings.OPPOSITE, 'sentence of y2'), seeds=claims.CONFIRMATION_SEEDS)
  designed = dict(_row('z3', findings.REPRODUCED, 'sentence of z3', scale='design'), seeds=11, design={'seeds': 11})
  table = findings.table([few, enough, designed], {'small': 'S.md', 'design': 'D.md'}, short=True)
  line = next(t for t in table.splitlines() if 'x1' in t)
  assert ('sentence of x1. To confirm: on 4 seeds; `python -m sslgap.design --only x1` would confirm it on fresh '
          f'seeds, as many as its power calculation asks ({claims.CONFIRMATION_SEEDS} or more) where its budget pays '
          'for them |') in line
  assert table.count('To confirm') == 1


def test_a_design_wanting_more_seeds_is_priced_at_the_pace_its_confirmation_measured():
  reason = 'underpowered: about 53 seeds would decide it'
  measured = {'seeds': 16, 'projected_seconds': 162.0, 'confirm_seconds': 528.0}
  assert findings.to_decide('w', reason, measured) == \
      'about 53 seeds, about 29 min of a confirmation on the machine that ran it (this design ran 16)'
  assert '9 min' in findings.to_decide('w', reason, dict(measured, confirm_seconds=None))  # projected: 162 s
  assert findings.to_decide('w', reason, {'seeds': 16}) == 'about 53 seeds (this design ran 16)'
  unpaid = {'seeds': 11, 'note': 'underpowered at this budget: needs 16 seeds, about 29.0 min (the budget, 20.0 '
            'min, pays for 11)'}
  assert findings.to_decide('w', 'grid edge: tuned at an end', unpaid).endswith(
      'into a fresh --out), and 16 seeds, about 29.0 min on the machine that ran it (the budget paid for 11)')
  second_look = {'seeds': 7, 'seeds_needed': 16, 'confirm_seconds': 1470.0,
                 'note': "the second look is underpowered at this budget: it pays for 7 of the first look's 8 seeds"}
  assert findings.to_decide('w', 'grid edge: tuned at an end', second_look).endswith(
      'into a fresh --out), and about 16 seeds, about 56 min of a confirmation on the machine that ran it (this design ran 7)')


def test_a_ratio_bound_off_one_reads_with_the_digits_that_show_it():
  """An 'opposite' whose interval of log2 ratios is [-0.683, -0.0267] (tfm_fig30's design) excludes 1: its
  bounds read 1.02x and 1.6x, not 1x and 1.6x; two digits where they do not round to 1, up to seven."""
  assert [findings._times(x) for x in (2**0.0267, 2**-0.0267, 1.0, 1.004, 1.00004, 0.99996, 1.6, 0.91, 12.4)] == [
      '1.02x', '0.98x', '1x', '1.004x', '1.00004x', '0.99996x', '1.6x', '0.91x', '12x']


def test_seeds_that_give_no_number_are_counted_in_every_sentence():
  """A diverged seed (NaN) is left out of the interval, never silently: the verdict's line, its findings
  sentence and the report's seeds column say how many of the grid's seeds the interval is over."""
  claim = dict(kind='better', metric='test_acc', a=A, b=B, **FIXED)
  whole = _grid(RISE, SLOW * 0.9, noise=0.01)
  values = np.array(whole['test_acc'])
  values[1, 2:4, -1] = np.nan  # two seeds of b diverged at the end
  diverged = results.Results(whole.axis_names, whole.coords, whole.eval_steps, {'test_acc': values}, whole.config)
  v = claims.evaluate(claim, diverged)
  assert (v.seeds, v.no_number) == (6, 2)
  assert '; 6 of 8 seeds (2 gave no number: a diverged run' in findings.sentence(v)
  assert 'over 6 of 8 seeds' in v.describe()
  assert report._summary_rows([v], 'x')[0][3] == '6 of 8'
  kept = claims.evaluate(claim, whole)
  assert kept.no_number == 0 and '; 8 seeds' in findings.sentence(kept) and report._summary_rows([kept], 'x')[0][3] == 8
