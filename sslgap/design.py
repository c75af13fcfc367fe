"""Experiments that size themselves: a pilot chooses the learning rates, the horizon and the evaluation
spacing; a power calculation chooses the seeds within a budget; a confirmation on fresh seeds decides.

  python -m sslgap.design --only fig2_parity_gd --scale small --budget 1h      # pilot, then a confirmation <= 1h
  python -m sslgap.design --only fig2_parity_gd,fig3_debias --dry_run           # each stage's plan and time
  python -m sslgap.design --config mine.py:small --claim mine --budget 30m      # a config and claim of your own

For one claim (an experiment's headline, or --claim NAME):
  1. The pilot runs a few seeds (--pilot_seeds, 4) over a learning-rate grid sqrt(2) apart: the preset's
     range filled in, or the preset's one lr times 1/2 to 2. Where a series' best lr lies at an end of the
     grid, the grid widens by two values past that end (new values of a traced axis: new runs of the same
     kernel, in a folder of their own), up to --max_rounds. For a time to a target, where more than a tenth
     of a series' seeds never reach it, the horizon doubles (up to --horizon_cap times the preset's; said
     when it binds) and the pilot runs again around each series' best lr. The evaluation spacing becomes at
     most a tenth of the median crossing step.
  2. The power calculation takes the spread of the claim's per-seed numbers on the pilot and the claim's
     smallest effect of interest: the seeds a t interval needs to decide at that effect with 80% power
     (an equivalence: to fit within its margin; at least 16; claims.seeds_needed), and what they cost on
     this machine at the pilot's measured pace. Where --budget (the confirmation's time; the pilot runs
     first, unbudgeted) cannot pay for them it says so before the confirmation runs ("underpowered at this
     budget: needs S seeds, about H hours") and confirms on the seeds it can pay for. Once sized, a
     design keeps its decision when it resumes.
  3. The confirmation runs fresh seeds (0, 1, ...; the pilot's are 1000 and up) over each series' best lr
     and two neighbours either side sqrt(2) apart (a 4x range), and its verdict (sslgap.claims, tuning
     cross-fitted) comes from its own seeds alone. Its config carries the design (the pilot's numbers, the
     chosen lrs, horizon, spacing, seeds and budget) in a `design` section, which the grid keeps and the
     report shows beside the verdict.
  4. A second look, only where the confirmation is undetermined because a series tuned its lr at an end of
     the confirmation's lrs (more seeds can move the best lr past what 4 pilot seeds saw): fresh seeds again
     (500 and up, as many as the first look's, within the budget) over the first look's lrs and two more
     past that end (confirm_2), whose verdict comes from its own seeds alone. Its interval holds its level
     given that it ran, since no seed of it decided that it runs; a first look that decides is reported as
     before. So a design's chance of a wrong verdict is at most the first look's plus the level's 5% times
     the chance of a second look: 5% when where the best lr falls is unrelated to which way the interval
     errs, 10% at worst. --one_look keeps a design to the first look.

Every stage is an ordinary sweep folder under <out>/<experiment>/ (pilot_1, pilot_2, ..., confirm) that
resumes, shards and checkpoints as any sweep does: rerunning the command continues where it stopped, and
every decision is taken again from the grids already there, so an interrupted design ends in the same
grids. `python -m sslgap.reproduce --scale design` reports the confirmations (docs/REPRODUCTION_DESIGN.md);
a row decided by a design supersedes the hand-sized presets' in README.
"""

import copy
import dataclasses
import json
import logging
import math
import os
import sys
import time

import numpy as np

from sslgap.paper import catalog
from sslgap.science import claims as claims_lib
from sslgap.base import command
from sslgap.setup import config as config_lib
from sslgap.base import files
from sslgap.folder import Folder
from sslgap.science import results as results_lib
from sslgap.engine import rehearse
from sslgap.engine import runner
from sslgap.science import stats
from sslgap.engine import sweep
from sslgap.errors import UserError

log = logging.getLogger('sslgap')

PILOT_SEED_START = 1000  # pilot seeds are 1000, 1001, ...; the confirmation's 0, 1, ...: never the same runs
SECOND_LOOK_SEED_START = 500  # a second look's: 500, 501, ... (at most 500 seeds a look, checked)
CONFIRMATION_STEPS = (-2, -1, 0, 1, 2)  # the confirmation's lrs: the pilot's best times sqrt(2)**k
RATIO = math.sqrt(2)  # the lr grid's spacing
MIN_CONFIRMATION_SEEDS = claims_lib.CONFIRMATION_SEEDS
MAX_CENSORED = 0.1  # more than this share of a series' pilot seeds never reaching the target extends the horizon
RECORD = 'design.json'
TIME_KINDS = ('faster', 'as_fast')
MAX_EVALUATIONS = 400  # the evaluation spacing never falls below the horizon over this


@dataclasses.dataclass
class Settings:
  """How a design is sized (the command's flags)."""
  pilot_seeds: int = 4
  max_rounds: int = 4
  horizon_cap: float = 4.0  # times the preset's steps
  budget_seconds: float = math.inf  # for the confirmation (and for a second look), on this machine
  power: float = 0.8
  second_look: bool = True  # a second confirmation where the first tuned its lr at an end of its lrs


# --- the grids of the stages -------------------------------------------------------------------------

def headline_claim(config, name=None):
  """The claim a design decides: `name`, else the config's paper.headline, else its first claim."""
  stated = list(config.get('claims') or ())
  name = name or (config.get('paper') or {}).get('headline')
  chosen = [c for c in stated if c.get('name') == name] if name else stated[:1]
  if not chosen:
    known = ', '.join(str(c.get('name')) for c in stated) or 'none'
    raise UserError(f'--claim: the config has no claim named {name!r}; its claims are: {known}')
  return json.loads(json.dumps(dict(chosen[0])))


def lr_grid(config):
  """The pilot's first lrs: the preset's lr range filled in sqrt(2) apart, or its one lr times 1/2 to 2."""
  swept = config.sweep.get('lr')
  if swept and len(set(swept)) > 1:
    low, high = min(swept), max(swept)
    count = max(int(math.floor(math.log(high / low, RATIO) + 1e-9)) + 1, 3 if high > low else 1)
    grid = [low * RATIO**k for k in range(count)]
    return tuple(_round(v) for v in (grid if grid[-1] >= high * 0.999 else grid + [high]))
  centre = swept[0] if swept else config.hp.lr
  return tuple(_round(centre * RATIO**k) for k in range(-2, 3))


def _round(lr):
  return float(f'{lr:.4g}')


def _around(best_lrs, reference, steps):
  """The lrs sqrt(2)**k from each best lr (k in steps), on the pilot's own lattice (reference times powers
  of sqrt(2)): stepping from an already rounded value gave near-twins such as 0.7997 beside 0.8."""
  ks = {round(math.log(lr / reference, RATIO)) for lr in best_lrs}
  return sorted({_round(reference * RATIO**(k + j)) for k in ks for j in steps})


def _series_selections(claim):
  """The claim's series selections (a, b, series, and an as_fast baseline's series). A closes claim's
  baseline is a cell of its region's axes, which a stage never cuts (stage_config)."""
  out = [dict(claim[k]) for k in ('a', 'b', 'series') if isinstance(claim.get(k), dict)]
  base = claim.get('baseline')
  if isinstance(base, dict) and set(base) == {'a', 'b'}:
    out += [dict(base['a']), dict(base['b'])]
  return out


def _kept_axes(claim):
  """Axes a stage keeps whole: the one a claim is checked per, a closes claim's region and baseline cell,
  the axis of a slope, argmax or trend."""
  kept = {claim.get('per'), claim.get('x_axis'), claim.get('axis'), 'lr'}
  kept |= set(dict(claim.get('region') or {}))
  base = claim.get('baseline')
  if isinstance(base, dict) and set(base) != {'a', 'b'}:
    kept |= set(base)
  return kept - {None}


def stage_config(config, claim, lrs, steps, eval_every, seeds, design=None):
  """The preset's config cut to what the claim reads: the axes its series fix limited to the values they
  use (the axis it is checked `per` kept), the lrs, horizon, spacing and seeds of a stage."""
  c = copy.deepcopy(config)
  used = {}
  for selection in _series_selections(claim):
    for axis, value in selection.items():
      used.setdefault(axis, [])
      if value not in used[axis]:
        used[axis].append(value)
  for axis, values in used.items():
    if axis in c.sweep and axis not in _kept_axes(claim):
      kept = [v for v in c.sweep[axis] if _same(v, values)]
      c.sweep[axis] = tuple(kept) if kept else c.sweep[axis]
  c.sweep.lr = tuple(lrs)
  c.sweep.seed = tuple(seeds)
  if steps != c.train.steps:
    c.train.steps = int(steps)
  c.train.eval_every = int(eval_every)
  if design is not None:
    c.design = _without_dotted_keys(design)
  return c


def _without_dotted_keys(value):
  """The design record as a config section can hold it: a dict keyed by series such as
  'pool_fraction=0.5, dataset_size=8192' becomes a list of [key, value] pairs (a ConfigDict refuses a
  dot in a key); design.json keeps the dicts."""
  if isinstance(value, dict):
    if any('.' in str(k) for k in value):
      return [[k, _without_dotted_keys(v)] for k, v in value.items()]
    return {k: _without_dotted_keys(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_without_dotted_keys(v) for v in value]
  return value


def _same(value, values):
  norm = lambda v: json.dumps(list(v) if isinstance(v, (tuple, list)) else v)
  return norm(value) in {norm(v) for v in values}


def _spacing(steps, wanted):
  """The largest evaluation interval that divides the steps and is at most `wanted`."""
  wanted = max(1, int(wanted))
  return max(d for d in range(1, wanted + 1) if steps % d == 0)


# --- reading a pilot -------------------------------------------------------------------------------

@dataclasses.dataclass
class Reading:
  """What a pilot grid says of the claim's series: their best lrs, which sit at an end of the grid, and
  (for a time to a target) the share of seeds that never reached it and the median crossing step."""
  best: dict  # series label -> lr
  low_edge: bool
  high_edge: bool
  censored: dict  # series label -> share of seeds that never reached the target
  median_crossing: float
  values: np.ndarray  # the claim's per-seed numbers at the best lrs (tuned on the pilot itself)
  measured: object = None


def read_pilot(grid, claim):
  kind = claims_lib.KINDS[claim['kind']]()
  lrs = np.asarray(grid.coords['lr'], float)
  best, low, high = {}, False, False
  for selection in _series_selections(claim):
    try:
      _, chosen, _ = kind.tuned(grid, selection, claim['metric'], claim.get('best', 'max'))
    except Exception:  # noqa: BLE001 - a series the pilot cannot tune (e.g. no finished run) has no best lr
      continue
    lr = float((chosen or {}).get('lr', lrs[0]))
    best[claims_lib.label(selection)] = lr
    low |= bool(np.isclose(lr, lrs.min())) and len(lrs) > 1
    high |= bool(np.isclose(lr, lrs.max())) and len(lrs) > 1
  measured = kind.seed_values(grid, claim)
  censored, crossings = {}, []
  if claim['kind'] in TIME_KINDS:
    for key in ('a', 'b'):
      v, _, _ = kind.tuned(grid, claim[key], claim['metric'], claim.get('best', 'max'))
      t = stats.crossing_step(v, grid.eval_steps, claim['target'], claim.get('above', claim.get('best', 'max') == 'max'))
      censored[claims_lib.name_of(claim, key)] = float(np.mean(~np.isfinite(t)))
      crossings += list(t[np.isfinite(t) & (t > 0)])
  median = float(np.median(crossings)) if crossings else math.nan
  return Reading(best, low, high, censored, median, np.asarray(measured.values, float), measured)


# --- running a stage -----------------------------------------------------------------------------

def run_stage(config, folder, progress=True):
  """Runs one stage into its folder (resuming it) and returns (its grid, seconds per run-step measured
  now, or None where nothing ran)."""
  summary = runner.run_to_folder(config, folder, runner.Options(progress=progress))
  if summary.stopped_by:
    raise KeyboardInterrupt(f'interrupted: {folder} keeps its chunks; run the command again to continue')
  if summary.path is None:
    raise UserError(f'{folder} is not complete (other processes hold its chunks): run the command again when '
                    'they are done')
  pace = summary.run_seconds / summary.run_steps if summary.run_steps and summary.run_seconds > 0 else None
  return sweep.with_examples(results_lib.load(summary.path)), pace


def _complete(folder):
  try:
    record = Folder(folder).plan()
  except UserError:
    return False
  return bool(record) and Folder(folder).is_complete(record)


class Designer:
  """The stages of one design into <out>/<name>/, each decision taken again from the grids there."""

  def __init__(self, config, claim, out, settings, dry_run=False, progress=True, say=print, scale='small'):
    self.config, self.claim, self.out, self.settings, self.scale = config, claim, out, settings, scale
    self.dry_run, self.progress, self.say = dry_run, progress, say
    self.record_path = os.path.join(out, RECORD)
    self.record = json.load(open(self.record_path)) if os.path.exists(self.record_path) else {}
    self.pace = self.record.get('seconds_per_run_step')
    self.paced_at = self.record.get('paced_at')  # (steps, eval_every) of the stage the pace was timed on
    self.rounds = []

  def _save(self, **fields):
    self.record.update(fields)
    if not self.dry_run:
      files.ensure_folder(self.out)
      files.write_text(self.record_path, json.dumps(self.record, indent=1))

  def _add_seconds(self, name, seconds):
    spent = dict(self.record.get('stage_seconds') or {})
    spent[name] = spent.get(name, 0.0) + seconds
    self._save(stage_seconds=spent)

  def _run(self, config, name):
    folder = os.path.join(self.out, name)
    plan = sweep.make_plan(config)
    if self.dry_run and not _complete(folder):
      self.say(f'  {name}: {plan.num_runs:,} runs of {config.train.steps:,} steps, lrs '
               f'{", ".join(f"{v:g}" for v in config.sweep.lr)}; seeds {config.sweep.seed[0]} to '
               f'{config.sweep.seed[-1]}; ' + self._projection(plan))
      return None
    start = time.time()
    try:
      grid, pace = run_stage(config, folder, self.progress)
    except BaseException:  # an interrupted stage's time counts too: its chunks are kept
      self._add_seconds(name, time.time() - start)
      raise
    if pace:  # something ran (a stage found complete adds nothing)
      self._add_seconds(name, time.time() - start)
      self.pace, self.paced_at = pace, [int(config.train.steps), int(config.train.eval_every)]
      self._save(seconds_per_run_step=pace, paced_at=self.paced_at)
    return grid

  def _projection(self, plan):
    if self.pace:
      seconds = plan.num_runs * plan.config.train.steps * self.pace
      return f'about {command.duration(seconds)} at the pilot\'s measured pace'
    return f'about {command.duration(sweep.predicted_sweep_seconds(plan))} predicted from its FLOPs'

  def pilot(self):
    """(the pilot's Reading, its lrs, steps, eval_every, what it left unresolved), or None in a dry run
    whose pilot has not run. Only a horizon some round ran is returned: a widening or a longer horizon
    that --max_rounds cut off is said and recorded, not assumed."""
    s, c = self.settings, self.config
    seeds = range(PILOT_SEED_START, PILOT_SEED_START + s.pilot_seeds)
    steps, eval_every = c.train.steps, c.train.eval_every
    lrs, new, horizon_rounds, unresolved = list(lr_grid(c)), list(lr_grid(c)), [], ''
    ran = None  # (reading, lrs, steps, eval_every) of the last round that ran
    for round_number in range(1, s.max_rounds + 1):
      name = f'pilot_{round_number}'
      grid = self._run(stage_config(c, self.claim, new, steps, eval_every, seeds), name)
      if grid is None:
        return None
      horizon_rounds.append(grid)
      joined = results_lib.concat(horizon_rounds, 'lr') if len(horizon_rounds) > 1 else grid
      reading = read_pilot(joined, self.claim)
      ran = (reading, sorted(set(lrs) | set(new)), steps, eval_every)
      lrs = ran[1]
      self.rounds.append({'folder': name, 'lrs': list(new), 'steps': steps, 'eval_every': eval_every,
                          'best': reading.best, 'censored': reading.censored})
      new, unresolved = [], ''
      if reading.low_edge:
        new += [_round(min(lrs) / RATIO**k) for k in (1, 2)]
      if reading.high_edge:
        new += [_round(max(lrs) * RATIO**k) for k in (1, 2)]
      if new:
        unresolved = 'a best lr at an end of the pilot\'s grid'
      late = [k for k, share in reading.censored.items() if share > MAX_CENSORED]
      if not new and late:
        if steps * 2 > s.horizon_cap * c.train.steps:
          unresolved = (f'the horizon cap binds: {steps:,} steps ({s.horizon_cap:g}x the preset\'s); some seeds still '
                        'never reach the target')
          break
        steps, eval_every = steps * 2, eval_every * 2  # a longer horizon, around each series' best lr
        new = _around(reading.best.values(), lr_grid(c)[0], (-1, 0, 1))
        lrs, horizon_rounds = [], []
        unresolved = f'more than a tenth of the seeds of {", ".join(late)} never reach the target'
      if not new:
        break
    self._save(rounds=self.rounds)
    if unresolved:
      if new:  # --max_rounds cut the pilot short of what it would have run next
        unresolved += f' after {s.max_rounds} rounds (--max_rounds)'
      self.say(f'  the pilot leaves {unresolved}')
    reading, lrs, steps, eval_every = ran
    crossings = reading.median_crossing
    if np.isfinite(crossings) and crossings > 0:
      eval_every = _spacing(steps, max(min(eval_every, crossings / 10), steps / MAX_EVALUATIONS))
    return reading, lrs, steps, eval_every, unresolved

  def size(self, reading):
    """(seeds the confirmation needs, the claim's smallest effect of interest, the pilot's spread of the
    claim's per-seed numbers): the t interval's power to decide the claim (an equivalence: to fit its
    margin, the series assumed alike), and at least 16 seeds (claims.seeds_needed, as the verdicts use)."""
    kind = claims_lib.KINDS[self.claim['kind']]()
    measured = reading.measured
    effect = kind.min_effect(self.claim, measured)
    values = reading.values[np.isfinite(reading.values)]
    sd = float(np.std(values, ddof=1)) if values.size >= 2 else math.nan
    margin = float(np.nanmean(measured.margin)) if measured.margin is not None else math.nan
    needed = claims_lib.seeds_needed(claims_lib._is_equivalence(kind, self.claim), sd, effect, margin, 0.0,
                                     self.settings.power)
    return max(MIN_CONFIRMATION_SEEDS, needed or MIN_CONFIRMATION_SEEDS), effect, sd

  def confirm(self):
    found = self.pilot()
    if found is None:
      self.say('  confirm: sized by the pilot once it has run')
      return None
    reading, lrs, steps, eval_every, unresolved = found
    saved = self.record.get('design')
    design = (self._resumed(saved, saved and saved.get('pilot_rounds') == self.rounds, 'confirm')
              or self._sized(reading, steps, eval_every, unresolved))
    if design['seeds'] < claims_lib.MIN_SEEDS:
      self.say(f'  no confirmation: the budget pays for {design["seeds"]} seeds, a verdict needs '
               f'{claims_lib.MIN_SEEDS}')
      return None
    grid = self._run(confirmation_config(self.config, design), 'confirm')
    if grid is None:
      return None
    ends = edge_ends(verdict_of(grid, self.claim), design['lrs'])
    if not ends or not self.settings.second_look:
      return None if self.dry_run else grid
    second = self.record.get('second_look')
    second = (self._resumed(second, second and second.get('first_look', {}).get('lrs') == design['lrs'], 'confirm_2')
              or self._second_look(design, ends))
    self.say(f'  the confirmation tuned an lr at the {" and ".join(sorted(ends))} end of its lrs: a second look on '
             f'{second["seeds"]} fresh seeds over {", ".join(f"{v:g}" for v in second["lrs"])}')
    if second['seeds'] < claims_lib.MIN_SEEDS:
      self.say(f'  no second look: the budget pays for {second["seeds"]} seeds, a verdict needs {claims_lib.MIN_SEEDS}')
      return None if self.dry_run else grid
    grid = self._run(confirmation_config(self.config, second), 'confirm_2')
    return None if self.dry_run else grid

  def _resumed(self, saved, same_inputs, stage):
    """A stage's sizing saved by an earlier run, when it came from the same inputs and budget: the same
    decision, not one priced at another pace. None where it must be sized again: another --budget
    (rerunning with a larger one is what an underpowered note invites), refused once the stage sized at
    the old budget has started, as its folder holds that sizing's seeds (a dry run refuses too: its plan
    would not be what runs)."""
    if not (saved and same_inputs):
      return None
    budget = self.settings.budget_seconds
    if saved.get('budget_seconds') == (budget if math.isfinite(budget) else None):
      return saved
    folder = os.path.join(self.out, stage)
    if Folder(folder).plan() is not None:
      old = saved.get('budget_seconds')
      raise UserError(f'{folder} was sized for a budget of {command.duration(old) if old else "no limit"}, not '
                      f'{command.duration(budget) if math.isfinite(budget) else "no limit"}: '
                      f'rerun with that budget to continue it, or remove {stage} to size it again')
    return None

  def _second_look(self, design, ends):
    """The second look's design: the first look's lrs and two more past each end a series tuned at, fresh
    seeds (as many as the first look's, within the budget), the same horizon and spacing."""
    lrs = sorted(design['lrs'])
    reference = lr_grid(self.config)[0]  # new values on the pilot's lattice, not stepped from rounded ones
    wider = set(lrs)
    if 'low' in ends:
      wider |= set(_around([lrs[0]], reference, (-2, -1)))
    if 'high' in ends:
      wider |= set(_around([lrs[-1]], reference, (1, 2)))
    wider = sorted(wider)
    seeds, per_seed = self._affordable(wider, design['steps'], design['eval_every'], design['seeds'], probe_seeds=2)
    second = dict(design, lrs=wider, seeds=max(seeds, 0), seed_start=SECOND_LOOK_SEED_START,
                  projected_seconds=max(seeds, 0) * per_seed,
                  note=(f'the second look is underpowered at this budget: it pays for {max(seeds, 0)} of the first '
                        f'look\'s {design["seeds"]} seeds' if seeds < design['seeds'] else design.get('note', '')),
                  first_look={'lrs': design['lrs'], 'seeds': design['seeds'], 'ends': sorted(ends)})
    second = json.loads(json.dumps(second, default=float))
    self._save(second_look=second)
    return second

  def _affordable(self, lrs, steps, eval_every, wanted, probe_seeds):
    """(the seeds of a confirmation over `lrs` that the budget pays for, at most `wanted`; its seconds per
    seed at the pilot's pace, or predicted from FLOPs), priced on a plan of `probe_seeds` seeds."""
    probe = stage_config(self.config, self.claim, lrs, steps, eval_every, range(probe_seeds))
    pace = self.pace or _predicted_pace(probe)
    if self.pace and self.paced_at and list(self.paced_at) != [steps, eval_every]:
      # the pace was timed at another horizon or spacing: a stage evaluating more often costs more per step
      # where evaluating is a real share of the work (FLOPs per run-step, evaluations included)
      timed = stage_config(self.config, self.claim, lrs, *self.paced_at, range(probe_seeds))
      pace *= _flops_per_run_step(probe) / _flops_per_run_step(timed)
    per_seed = sweep.make_plan(probe).num_runs // probe_seeds * steps * pace
    budget = self.settings.budget_seconds
    return (min(wanted, int(budget // per_seed)) if math.isfinite(budget) else wanted), per_seed

  def _sized(self, reading, steps, eval_every, unresolved):
    """The design record: the confirmation's lrs, horizon, spacing and seeds within the budget (said before
    the confirmation runs when the budget cannot pay for the seeds the power calculation asks)."""
    needed, effect, sd = self.size(reading)
    # two neighbours either side: near a flat optimum a half of the seeds may tune at the next value, and
    # with one neighbour that would be the grid's end (flagged), as 3 values did on fig3_debias
    neighbourhood = _around(reading.best.values(), lr_grid(self.config)[0], CONFIRMATION_STEPS)
    seeds, per_seed = self._affordable(neighbourhood, steps, eval_every, needed, probe_seeds=needed)
    budget = self.settings.budget_seconds
    note = ''
    if seeds > SECOND_LOOK_SEED_START:  # a second look's seeds start there, so a look holds no more
      note = (f'underpowered: needs {needed} seeds, about {command.duration(needed * per_seed)}, more than the '
              f'{SECOND_LOOK_SEED_START} a look may hold (seeds from {SECOND_LOOK_SEED_START} on are a second look\'s)')
      seeds = SECOND_LOOK_SEED_START
    elif seeds < needed:
      note = (f'underpowered at this budget: needs {needed} seeds, about {command.duration(needed * per_seed)} '
              f'(the budget, {command.duration(budget)}, pays for {max(seeds, 0)})')
    if note:
      self.say(f'  {note}')
    design = {'claim': self.claim.get('name', ''), 'scale': self.scale, 'pilot_seeds': self.settings.pilot_seeds,
              'pilot_rounds': self.rounds, 'pilot_best_lr': reading.best, 'pilot_censored': reading.censored,
              'pilot_spread': sd, 'pilot_median_crossing': reading.median_crossing, 'min_effect': effect,
              'power': self.settings.power, 'seeds_needed': needed, 'seeds': max(seeds, 0), 'lrs': neighbourhood,
              'steps': steps, 'eval_every': eval_every, 'horizon_capped': unresolved.startswith('the horizon cap'),
              'pilot_unresolved': unresolved, 'budget_seconds': budget if math.isfinite(budget) else None,
              'projected_seconds': max(seeds, 0) * per_seed, 'note': note}
    design = json.loads(json.dumps(design, default=float))
    self._save(design=design)
    return design


def confirmation_config(config, design):
  """The config a design's confirmation ran (its grid's), from the preset's config and its design record."""
  claim = headline_claim(config, design.get('claim') or None)
  start = int(design.get('seed_start') or 0)
  return stage_config(config, claim, design['lrs'], design['steps'], design['eval_every'],
                      range(start, start + design['seeds']), design=design)


def _flops_per_run_step(config):
  """FLOPs per run-step of a stage, its evaluations included (rehearse.run_flops), over its static points."""
  plan = sweep.make_plan(config)
  return sum(rehearse.run_flops(g.spec) for g in plan.subgrids) / max(len(plan.subgrids) * config.train.steps, 1)


def _predicted_pace(config):
  """Seconds per run-step predicted from FLOPs, where no pilot has been timed in this folder."""
  plan = sweep.make_plan(config)
  return sweep.predicted_sweep_seconds(plan) / max(plan.num_runs * config.train.steps, 1)


def edge_ends(verdicts, lrs):
  """The ends ('low', 'high') of a confirmation's lrs at which a series tuned its lr, among the verdicts left
  undetermined by a grid edge."""
  ends, lrs = set(), np.asarray(lrs, float)
  for v in verdicts:
    if v.verdict != claims_lib.UNDETERMINED or not any(flag == claims_lib.GRID_EDGE for flag, _ in v.flags):
      continue
    # the lrs tuned at an end: each half's choices, and the edges the grid-edge flag names (a trend or
    # slope tunes per point of its axis and keeps no choices)
    tuned = [c.get('lr') for choices in v.chosen.values() for c in choices]
    tuned += [value for edge in (v.edges or {}).values() for axis, value in edge.items() if axis.split('__')[-1] == 'lr']
    for lr in tuned:
      if lr is not None and len(lrs) > 1:
        ends |= {'low'} if np.isclose(float(lr), lrs.min()) else set()
        ends |= {'high'} if np.isclose(float(lr), lrs.max()) else set()
  return ends


def verdict_of(grid, claim):
  """The confirmation's verdict of the claim: from its own seeds alone (sslgap.claims)."""
  expanded = claims_lib.expand(claim, grid)
  return [claims_lib.evaluate(c, grid) for c in expanded]


# --- the command ---------------------------------------------------------------------------------

def parse_duration(text):
  """'90s', '30m', '2h', '1.5h' -> seconds; ValueError says what is wrong."""
  units = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400}
  text = str(text).strip().lower()
  try:
    value = float(text[:-1]) * units[text[-1]] if text and text[-1] in units else float(text)
  except (ValueError, KeyError):
    raise ValueError(f"must be a duration like '90s', '30m' or '2h', got {text!r}") from None
  if not value > 0:
    raise ValueError(f'must be positive, got {text!r}')
  return value


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.design', description=__doc__.splitlines()[0])
  parser.add_argument('--only', default=None, help='comma-separated experiment ids (of sslgap.catalog)')
  parser.add_argument('--scale', default='small', choices=('small', 'medium'), help='the preset a design starts from')
  parser.add_argument('--config', default=None, help='a config file of your own (path.py[:preset]) instead of --only')
  parser.add_argument('--claim', default=None, help='the claim (by name) to design for; default: the headline')
  parser.add_argument('--out', default=os.path.join('results', 'designs'), help='where the stages go: <out>/<id>/')
  parser.add_argument('--budget', default=None, help='time for each confirmation on this machine, e.g. 30m or 2h')
  parser.add_argument('--pilot_seeds', type=int, default=4, help='seeds of the pilot (default 4)')
  parser.add_argument('--max_rounds', type=int, default=4, help='times the pilot may widen its lr grid or horizon')
  parser.add_argument('--horizon_cap', type=float, default=4.0, help="the longest horizon, in the preset's steps")
  parser.add_argument('--one_look', action='store_true', help='no second look where the confirmation tuned an lr at '
                      'an end of its lrs')
  parser.add_argument('--dry_run', action='store_true', help="print each stage's plan and projected time")
  parser.add_argument('--quiet', action='store_true', help='no progress bars')
  args = parser.parse_args(argv)
  if (args.only is None) == (args.config is None):
    command.fail('give --only EXPERIMENTS or --config FILE (one of them)')
  if args.pilot_seeds < 2:
    command.fail(f'--pilot_seeds: at least 2 (a spread needs two seeds), got {args.pilot_seeds}')
  if args.max_rounds < 1 or args.horizon_cap < 1:
    command.fail('--max_rounds and --horizon_cap must be at least 1')
  try:
    budget = parse_duration(args.budget) if args.budget else math.inf
  except ValueError as e:
    command.fail(f'--budget {e}')
  settings = Settings(args.pilot_seeds, args.max_rounds, args.horizon_cap, budget, second_look=not args.one_look)
  logging.basicConfig(level=logging.WARNING if args.quiet or args.dry_run else logging.INFO, format='%(message)s')
  try:
    if args.config:
      jobs = [(None, config_lib.load(args.config))]
    else:
      jobs = [(e, catalog.load_config(e, args.scale)) for e in catalog.for_scale(args.scale, [
          i.strip() for i in args.only.split(',') if i.strip()])]
    for experiment, config in jobs:
      claim = headline_claim(config, args.claim)
      name = experiment.id if experiment else config.name
      print(f'{name}: designing for claim {claim.get("name") or claim.get("text", "")!r} from the {args.scale} preset'
            + (' (dry run)' if args.dry_run else ''))
      config_lib.validate(config)
      designer = Designer(config, claim, os.path.join(args.out, name), settings, args.dry_run, not args.quiet,
                          scale=args.scale)
      grid = designer.confirm()
      if grid is not None:
        for v in verdict_of(grid, claim):
          print(f'  {v.verdict}' + (f' ({v.reason})' if v.reason else '') + f': {v.claim.get("text", "")}')
  except ValueError as e:
    command.fail(str(e))
  except KeyboardInterrupt as e:
    print(f'error: {e or "interrupted"}; the finished chunks are kept', file=sys.stderr)
    sys.exit(130)
  return 0


if __name__ == '__main__':
  command.run(main)


def entries(out_root, ids=()):
  """sslgap.report Entries of the finished confirmations under <out_root>/designs/<id>/confirm (of ids, if
  given): their grids, with the design record beside them, read with the preset each design started from."""
  from sslgap.paper import report  # noqa: PLC0415 - the report builds on the design, not the other way
  found = []
  for experiment in catalog.find(list(ids)):
    folder = os.path.join(out_root, 'designs', experiment.id)
    record = json.load(open(os.path.join(folder, RECORD))) if os.path.exists(os.path.join(folder, RECORD)) else {}
    second = report._complete_grid(os.path.join(folder, 'confirm_2'))  # a second look decides where it ran
    grid = second or report._complete_grid(os.path.join(folder, 'confirm'))
    if grid is None:
      continue
    design = dict(record.get('second_look' if second else 'design') or {})
    measured = (record.get('stage_seconds') or {}).get('confirm_2' if second else 'confirm')
    if measured:  # what the deciding look took: the pace a row that wants more seeds is priced at
      design['confirm_seconds'] = measured
    entry = report.Entry(experiment, 'design', folder, grid, design=design,
                         preset_scale=design.get('scale') or 'small',
                         wall_seconds=sum((record.get('stage_seconds') or {}).values()) or None)
    found.append(entry)
  return found
