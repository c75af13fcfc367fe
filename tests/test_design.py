"""Experiments that size themselves (sslgap.design): the pilot widens its lr grid and its horizon, the
seeds come from the power calculation within a budget, and fresh seeds decide. The decisions are tested
on synthetic stages whose answer is known; one design runs for real, interrupted and resumed."""

import json
import math
import os

import numpy as np
import pytest

from sslgap import claims
from sslgap import design
from sslgap import results
from sslgap import stats
from sweep_cli import tiny_config
from sweep_cli import module_in_process

CLAIM = dict(kind='faster', name='faster', text='The subset is faster.', metric='test_acc', target=0.9,
             a={'dataset_size': 32}, b={'dataset_size': 'online'})


def _config(lrs=(0.02, 0.04), steps=40, eval_every=10):
  c = tiny_config()
  c.train.steps, c.train.eval_every = steps, eval_every
  c.sweep.init_scale_first, c.sweep.init_scale_rest = (1.0,), (1.0,)
  c.sweep.dataset_size = (32, 'online')
  c.sweep.lr = tuple(lrs)
  c.claims = (CLAIM,)
  c.paper = dict(headline='faster', quote='q', where='w', departs='d')
  return c


def synthetic_stage(best_lr, crossing, spread=0.1, ran=None):
  """A stand-in for running a stage: test_acc rises linearly from 0.5 and crosses 0.9 at
  crossing[dataset] x (1 + log2(lr / best_lr)^2) x a seed's noise, so the best lr and the crossings are
  known. It records the configs it was given in `ran`."""

  def stage(config, folder, progress=True):
    axes = [(name, list(values)) for name, values in config.sweep.items()]
    names = [n for n, _ in axes]
    steps = np.arange(0, config.train.steps + 1, config.train.eval_every)
    shape = [len(v) for _, v in axes]
    acc = np.empty(shape + [len(steps)])
    for index in np.ndindex(*shape):
      point = {n: axes[i][1][j] for i, (n, j) in enumerate(zip(names, index))}
      seed_noise = 2.0 ** (spread * np.random.default_rng(int(point['seed'])).normal())
      t = crossing[point['dataset_size']] * (1 + np.log2(point['lr'] / best_lr) ** 2) * seed_noise
      acc[index] = np.clip(0.5 + 0.4 * steps / t, 0, 1)
    coords = {n: results.coord_array(v) for n, v in axes}
    grid = results.Results(names, coords, steps, {'test_acc': acc}, json.loads(config.to_json()),
                           examples=np.broadcast_to(steps * 16.0, (1,) * len(names) + (len(steps),)))
    if ran is not None:
      ran.append((os.path.basename(folder), config))
    return grid, 1e-5
  return stage


def _design(tmp_path, monkeypatch, config, stage, budget=math.inf, said=None):
  monkeypatch.setattr(design, 'run_stage', stage)
  settings = design.Settings(budget_seconds=budget)
  designer = design.Designer(config, design.headline_claim(config), str(tmp_path / 'd'), settings,
                             say=(said.append if said is not None else lambda _: None))
  return designer, designer.confirm()


def test_the_lr_grid_widens_until_every_series_best_lr_is_inside(tmp_path, monkeypatch):
  ran = []
  _, grid = _design(tmp_path, monkeypatch, _config(), synthetic_stage(0.2, {32: 10, 'online': 20}, ran=ran))
  pilots = [(name, list(c.sweep.lr)) for name, c in ran if name.startswith('pilot')]
  assert pilots[0] == ('pilot_1', [0.02, 0.02828, 0.04])  # the preset's range, filled in sqrt(2) apart
  assert [name for name, _ in pilots] == ['pilot_1', 'pilot_2', 'pilot_3', 'pilot_4']
  assert all(min(lrs) > max(before) for (_, lrs), (_, before) in zip(pilots[1:], pilots))  # past the top end
  record = json.load(open(tmp_path / 'd' / design.RECORD))
  assert record['design']['pilot_best_lr'] == {'dataset_size=32': 0.2263, 'dataset_size=online': 0.2263}  # near 0.2
  assert pilots[-1][1][-1] > 0.2263  # inside the widened grid: it stopped widening
  assert list(grid.coords['lr']) == [0.1131, 0.16, 0.2263, 0.32, 0.4525]  # the best lr and two neighbours each side
  assert sorted(record['stage_seconds']) == ['confirm', 'pilot_1', 'pilot_2', 'pilot_3', 'pilot_4']  # the report's time


def test_an_optimum_inside_the_grid_needs_no_widening(tmp_path, monkeypatch):
  ran = []
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), synthetic_stage(0.028, {32: 10, 'online': 20}, ran=ran))
  assert [name for name, _ in ran] == ['pilot_1', 'confirm']


def test_the_horizon_doubles_while_most_seeds_never_reach_the_target_up_to_its_cap(tmp_path, monkeypatch):
  ran, said = [], []
  _, grid = _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08), steps=40),
                    synthetic_stage(0.028, {32: 30, 'online': 70}, ran=ran), said=said)
  horizons = [(name, c.train.steps) for name, c in ran]
  assert horizons[0] == ('pilot_1', 40) and horizons[1] == ('pilot_2', 80) and horizons[-1] == ('confirm', 80)
  _, _ = _design(tmp_path / 'capped', monkeypatch, _config(lrs=(0.01, 0.08), steps=40),
                 synthetic_stage(0.028, {32: 30, 'online': 1000}), said=said)
  assert any('the horizon cap binds: 160 steps' in line for line in said)


def test_the_evaluation_spacing_is_at_most_a_tenth_of_the_median_crossing(tmp_path, monkeypatch):
  _, grid = _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08), steps=400, eval_every=100),
                    synthetic_stage(0.028, {32: 100, 'online': 200}))
  median = json.load(open(tmp_path / 'd' / design.RECORD))['design']['pilot_median_crossing']
  spacing = int(grid.eval_steps[1] - grid.eval_steps[0])
  assert spacing <= median / 10 and 400 % spacing == 0


def test_the_confirmation_seeds_follow_the_power_formula_and_never_overlap_the_pilots(tmp_path, monkeypatch):
  ran = []
  designer, grid = _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)),
                           synthetic_stage(0.028, {32: 10, 'online': 12}, spread=0.4, ran=ran))
  record = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  needed = stats.seeds_to_decide(record['pilot_spread'], record['min_effect'], claims.LEVEL, 0.8)
  assert record['seeds_needed'] == max(16, needed) and record['seeds'] == record['seeds_needed']
  pilot_seeds = {s for name, c in ran if name.startswith('pilot') for s in c.sweep.seed}
  confirm_seeds = {s for name, c in ran if name == 'confirm' for s in c.sweep.seed}
  assert len(confirm_seeds) == record['seeds'] and not pilot_seeds & confirm_seeds
  [v] = design.verdict_of(grid, design.headline_claim(_config()))
  assert v.seeds == record['seeds']  # the verdict reads the confirmation's seeds alone


def test_a_budget_too_small_says_what_deciding_would_take_before_the_confirmation_runs(tmp_path, monkeypatch):
  events = []
  stage = synthetic_stage(0.028, {32: 10, 'online': 12}, spread=0.4, ran=events)
  _design(tmp_path / 'free', monkeypatch, _config(lrs=(0.01, 0.08)), stage)  # what the seeds cost, unbounded
  free = json.load(open(tmp_path / 'free' / 'd' / design.RECORD))['design']
  budget = 0.5 * free['projected_seconds']  # half of what the seeds it needs cost
  events.clear()
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget, said=events)
  record = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  assert record['steps'] == 40  # the pace above assumed the preset's horizon
  note = next(i for i, e in enumerate(events) if isinstance(e, str) and 'underpowered at this budget' in e)
  assert f'needs {record["seeds_needed"]} seeds, about' in events[note]
  assert claims.MIN_SEEDS <= record['seeds'] < record['seeds_needed']
  confirm = next(i for i, e in enumerate(events) if isinstance(e, tuple) and e[0] == 'confirm')
  assert note < confirm and len(events[confirm][1].sweep.seed) == record['seeds']  # said first, then run


def test_a_confirmation_evaluating_more_often_than_the_pilot_is_priced_at_its_own_spacing(tmp_path):
  """The pilot's pace (seconds per run-step) is timed at its own evaluation spacing; a confirmation that
  evaluates more often costs more per step, by the ratio of FLOPs per run-step, evaluations included."""
  config = _config(lrs=(0.01, 0.08))
  designer = design.Designer(config, design.headline_claim(config), str(tmp_path / 'd'), design.Settings())
  designer.pace, designer.paced_at = 1e-5, [40, 10]
  _, same = designer._affordable([0.02, 0.04], 40, 10, 16, probe_seeds=2)
  _, denser = designer._affordable([0.02, 0.04], 40, 2, 16, probe_seeds=2)
  assert same == pytest.approx(2 * 2 * 40 * 1e-5)  # 2 series x 2 lrs a seed, at the timed spacing: the pace alone
  probe = design.stage_config(config, designer.claim, [0.02, 0.04], 40, 2, range(2))
  timed = design.stage_config(config, designer.claim, [0.02, 0.04], 40, 10, range(2))
  ratio = design._flops_per_run_step(probe) / design._flops_per_run_step(timed)
  assert ratio > 1.5 and denser == pytest.approx(same * ratio)


def test_a_confirmation_needing_more_seeds_than_a_look_holds_says_so_not_the_budget(tmp_path, monkeypatch):
  """Seeds from SECOND_LOOK_SEED_START on belong to a second look, so a first look holds no more; when the
  power calculation asks for more, the note names that limit, not an (unlimited) budget."""
  real_size, events = design.Designer.size, []
  monkeypatch.setattr(design.Designer, 'size', lambda self, reading: (700,) + real_size(self, reading)[1:])
  stage = synthetic_stage(0.028, {32: 10, 'online': 12}, spread=0.1, ran=events)
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, said=events)
  record = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  assert record['seeds_needed'] == 700 and record['seeds'] == design.SECOND_LOOK_SEED_START
  [note] = [e for e in events if isinstance(e, str) and 'underpowered' in e]
  assert 'needs 700 seeds' in note and f'more than the {design.SECOND_LOOK_SEED_START} a look may hold' in note
  assert 'budget' not in note
  [confirm] = [e[1] for e in events if isinstance(e, tuple) and e[0] == 'confirm']
  assert len(confirm.sweep.seed) == design.SECOND_LOOK_SEED_START
  assert max(confirm.sweep.seed) < design.SECOND_LOOK_SEED_START  # disjoint from any second look's


def test_a_design_for_a_closes_claim_keeps_its_region_and_baseline_whole():
  from sslgap import catalog
  for experiment, axes in (('fig7_alpha', ('alpha',)), ('fig6_init', ('init_scale_first', 'init_scale_rest'))):
    config = catalog.load_config(catalog.BY_ID[experiment], 'small')
    stage = design.stage_config(config, design.headline_claim(config), [0.1], 100, 50, range(2))
    for axis in axes:
      assert stage.sweep[axis] == config.sweep[axis], (experiment, axis)
    assert stage.sweep.dataset_size == config.sweep.dataset_size  # both series' sizes


def test_a_preset_of_one_lr_gets_a_pilot_grid_around_it():
  assert design.lr_grid(_config(lrs=(0.1,))) == (0.05, 0.07071, 0.1, 0.1414, 0.2)


def test_a_resumed_design_keeps_its_sizing_decision(tmp_path, monkeypatch):
  """Sized once, the confirmation's seeds are not priced again at another pace when the design resumes."""
  stage = synthetic_stage(0.028, {32: 10, 'online': 12}, spread=0.4)
  _design(tmp_path / 'free', monkeypatch, _config(lrs=(0.01, 0.08)), stage)
  budget = 0.5 * json.load(open(tmp_path / 'free' / 'd' / design.RECORD))['design']['projected_seconds']  # binds
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget)
  first = json.load(open(tmp_path / 'd' / design.RECORD))['design']

  def slower(config, folder, progress=True):
    grid, pace = stage(config, folder, progress)
    return grid, pace * 10

  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), slower, budget=budget)
  assert json.load(open(tmp_path / 'd' / design.RECORD))['design'] == first


def test_a_design_resumed_with_another_budget_is_sized_again_unless_its_confirmation_started(tmp_path, monkeypatch):
  """The underpowered note invites a rerun with a larger budget: that rerun sizes the confirmation again
  (it kept the old sizing once, silently); where the confirmation sized at the old budget has started,
  its folder holds that sizing's seeds, so the rerun refuses in one line naming both budgets."""
  stage = synthetic_stage(0.028, {32: 10, 'online': 12}, spread=0.4)
  _design(tmp_path / 'free', monkeypatch, _config(lrs=(0.01, 0.08)), stage)
  budget = 0.5 * json.load(open(tmp_path / 'free' / 'd' / design.RECORD))['design']['projected_seconds']  # binds
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget)
  first = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  assert first['seeds'] < first['seeds_needed'] == 16
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget * 4)
  again = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  assert again['seeds'] == 16 and again['budget_seconds'] == budget * 4 and not again['note']

  class Started:  # a confirmation folder with a plan: the stage sized at the old budget has begun
    def __init__(self, folder):
      self.folder = folder

    def plan(self):
      return {} if self.folder.endswith('confirm') else None

  monkeypatch.setattr(design, 'Folder', Started)
  with pytest.raises(design.UserError, match=r'was sized for a budget of .* not .*: rerun with that budget to '
                                             r'continue it, or remove confirm to size it again'):
    _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget)
  _design(tmp_path, monkeypatch, _config(lrs=(0.01, 0.08)), stage, budget=budget * 4)  # the same budget resumes


def test_a_pilot_cut_short_by_its_rounds_says_what_it_left(tmp_path, monkeypatch):
  said, ran = [], []
  monkeypatch.setattr(design, 'run_stage', synthetic_stage(5.0, {32: 10, 'online': 20}, ran=ran))
  designer = design.Designer(_config(), design.headline_claim(_config()), str(tmp_path / 'd'),
                             design.Settings(max_rounds=2), say=said.append)
  designer.confirm()
  assert any('the pilot leaves a best lr at an end of the pilot\'s grid after 2 rounds' in line for line in said)
  record = json.load(open(tmp_path / 'd' / design.RECORD))['design']
  assert record['pilot_unresolved'].startswith('a best lr at an end') and record['steps'] == 40


def test_a_design_interrupted_in_either_stage_resumes_to_the_same_grids(tmp_path):
  """A real design of a tiny sweep, stopped in the pilot, resumed, stopped again before the confirmation,
  then run to its end: the same folders and the same grids, bitwise, as a design that was never stopped."""
  config = _config(lrs=(0.05, 0.2), steps=40)
  config.engine.call_width = 8  # every stage's kernel the same width: one compile, not four
  settings = design.Settings(max_rounds=2)

  def designer(out):
    return design.Designer(config, design.headline_claim(config), str(out), settings, progress=False,
                           say=lambda _: None)

  expected = designer(tmp_path / 'whole').confirm()
  real, stopped = design.run_stage, []

  def stopping(config, folder, progress=True):
    stage = os.path.basename(folder)
    if stage in ('pilot_1', 'confirm') and stage not in stopped:
      stopped.append(stage)
      raise KeyboardInterrupt(f'stopped in {stage}')
    return real(config, folder, progress)

  out = tmp_path / 'stopped'
  design.run_stage = stopping
  try:
    for stage in ('pilot_1', 'confirm'):
      with pytest.raises(KeyboardInterrupt, match=f'stopped in {stage}'):
        designer(out).confirm()
    again = designer(out).confirm()
  finally:
    design.run_stage = real
  assert stopped == ['pilot_1', 'confirm']
  assert sorted(os.listdir(out)) == sorted(os.listdir(tmp_path / 'whole'))
  for metric in expected.metrics:
    np.testing.assert_array_equal(again[metric], expected[metric], err_msg=metric)


def test_bad_flags_are_one_line():
  _, stderr = module_in_process('sslgap.design', '--only', 'fig2_parity_gd', '--budget', 'soon', expect=2)
  assert "--budget must be a duration like '90s', '30m' or '2h', got 'soon'" in stderr
  _, stderr = module_in_process('sslgap.design', expect=2)
  assert 'give --only EXPERIMENTS or --config FILE' in stderr
  _, stderr = module_in_process('sslgap.design', '--only', 'fig2_parity_gd', '--claim', 'nothing', '--dry_run', expect=2)
  assert "--claim: the config has no claim named 'nothing'" in stderr


def test_a_design_record_keyed_by_series_with_a_decimal_fits_the_config():
  """two_set's series are 'pool_fraction=0.5, dataset_size=8192': a ConfigDict refuses the dot in such a
  key, so the design's config holds those dicts as [key, value] pairs (design.json keeps the dicts)."""
  from sslgap import catalog
  config = catalog.load_config(catalog.BY_ID['two_set'], 'small')
  claim = design.headline_claim(config)
  best = {claims.label(claim[k]): 0.1 for k in 'ab'}
  assert any('.' in key for key in best)
  record = {'pilot_best_lr': best, 'pilot_rounds': [{'folder': 'pilot_1', 'best': best}], 'seeds': 16}
  stage = design.stage_config(config, claim, [0.1], 100, 50, range(2), design=record)
  saved = json.loads(stage.to_json())['design']
  assert saved['pilot_best_lr'] == [[k, v] for k, v in best.items()] and saved['seeds'] == 16
  assert saved['pilot_rounds'][0]['best'] == [[k, v] for k, v in best.items()]


def test_the_confirmation_lrs_of_two_best_lrs_a_step_apart_share_one_lattice():
  """fig18's series tuned at 0.8 and 1.131: their neighbourhoods must not hold 0.7997 beside 0.8."""
  lrs = design._around([0.8, 1.131], 0.05, design.CONFIRMATION_STEPS)
  assert lrs == [0.4, 0.5657, 0.8, 1.131, 1.6, 2.263]
  assert all(b / a > 1.4 for a, b in zip(lrs, lrs[1:]))


def test_a_confirmation_tuned_at_an_end_of_its_lrs_takes_a_second_look_on_fresh_seeds(tmp_path, monkeypatch):
  """The pilot, cut short by its rounds, leaves the best lr (5.0) far above its grid: the confirmation
  tunes at its top lr, so it cannot decide, and a second look runs on fresh seeds over its lrs and two more
  past the top; the design's grid is the second look's, and its verdict reads the second look's seeds."""
  said, ran = [], []
  monkeypatch.setattr(design, 'run_stage', synthetic_stage(5.0, {32: 10, 'online': 20}, ran=ran))
  designer = design.Designer(_config(), design.headline_claim(_config()), str(tmp_path / 'd'),
                             design.Settings(max_rounds=2), say=said.append)
  grid = designer.confirm()
  stages = {name: c for name, c in ran}
  first, second = stages['confirm'], stages['confirm_2']
  [v] = design.verdict_of(first_grid(first), design.headline_claim(_config()))
  assert v.verdict == claims.UNDETERMINED and any(f == claims.GRID_EDGE for f, _ in v.flags)
  top = max(first.sweep.lr)
  assert list(second.sweep.lr) == sorted(first.sweep.lr) + [design._round(top * 2 ** 0.5), design._round(top * 2)]
  assert set(second.sweep.seed) == set(range(design.SECOND_LOOK_SEED_START,
                                             design.SECOND_LOOK_SEED_START + len(first.sweep.seed)))
  assert not set(second.sweep.seed) & (set(first.sweep.seed) | {s for n, c in ran if n.startswith('pilot')
                                                                 for s in c.sweep.seed})
  assert list(grid.coords['lr']) == list(second.sweep.lr)  # the design's grid is the second look's
  record = json.load(open(tmp_path / 'd' / design.RECORD))
  assert record['second_look']['first_look'] == {'lrs': list(first.sweep.lr), 'seeds': len(first.sweep.seed),
                                                 'ends': ['high']}
  assert any('a second look on' in line for line in said)
  from sslgap.paper import report
  assert 'Second look.' in report.design_words(record['second_look'])
  assert 'Second look.' not in report.design_words(record['design'])
  ran.clear()  # resumed: the same second look, nothing new decided
  design.Designer(_config(), design.headline_claim(_config()), str(tmp_path / 'd'), design.Settings(max_rounds=2),
                  say=said.append).confirm()
  assert json.load(open(tmp_path / 'd' / design.RECORD))['second_look'] == record['second_look']
  ran.clear()
  design.Designer(_config(), design.headline_claim(_config()), str(tmp_path / 'one'),
                  design.Settings(max_rounds=2, second_look=False), say=said.append).confirm()
  assert 'confirm_2' not in {name for name, _ in ran}  # --one_look


def first_grid(config):
  grid, _ = synthetic_stage(5.0, {32: 10, 'online': 20})(config, 'confirm')
  return grid


def test_the_ends_of_a_second_look_come_from_the_edges_a_trend_names_too():
  """A trend tunes its lr per point of its axis and keeps no per-half choices: the ends come from the
  edges the grid-edge flag names (fig10_parity_k and fig11_depth ended there without a second look)."""
  def verdict(chosen, edges, outcome=claims.UNDETERMINED, flags=((claims.GRID_EDGE, 'tuned at an end'),)):
    return claims.Verdict({}, outcome, 's', 0.0, 0.0, 0.0, {}, flags=flags, chosen=chosen, edges=edges)
  lrs = [0.4, 0.8, 1.6]
  assert design.edge_ends([verdict({}, {'the subset': {'lr': 1.6}})], lrs) == {'high'}
  assert design.edge_ends([verdict({'a': [{'lr': 0.4}]}, {})], lrs) == {'low'}
  assert design.edge_ends([verdict({}, {'the subset': {'alpha': 2.0}})], lrs) == set()  # not an lr: no wider lrs
  assert design.edge_ends([verdict({}, {'the subset': {'lr': 1.6}}, flags=())], lrs) == set()  # no grid edge flag
  assert design.edge_ends([verdict({}, {'x': {'lr': 1.6}}, outcome=claims.REPRODUCED)], lrs) == set()
