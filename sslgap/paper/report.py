"""The reproduction report: run what is missing, check every claim on the grids, write markdown.

Every number in the report is computed here from the .npz grids, with Student's t intervals over
seeds (sslgap.claims); what only a person can write (what we tried, why a size was chosen)
comes from each config's `notes`. See python -m sslgap.reproduce.
"""

import dataclasses
import datetime
import json
import math
import os
import shutil
import sys
import time

import numpy as np

from sslgap.base import backend
from sslgap.paper import catalog
from sslgap.science import claims as claims_lib
from sslgap.base import command
from sslgap.setup import config as config_lib
from sslgap import errors
from sslgap.base import files
from sslgap.paper import findings as findings_lib
from sslgap.paper import report_sections
from sslgap.folder import Folder
from sslgap.science import notes as notes_lib
from sslgap.science import plotting
from sslgap.science import results as results_lib
from sslgap.engine import stopping
from sslgap.engine import sweep
from sslgap.version import __version__

WALL_FILE = 'wall.json'


@dataclasses.dataclass
class Entry:
  """One experiment at one scale: where it ran, how long it took, and its verdicts."""

  experiment: object
  scale: str
  folder: str
  grid: str = None  # the merged .npz
  wall_seconds: float = None
  error: str = None
  verdicts: list = dataclasses.field(default_factory=list)
  notes: str = ''
  results: object = None  # the grid, loaded by check and described by today's config's plot section
  figure: str = None  # the figure's path, relative to the report
  paper: dict = None  # the config's `paper` section: its headline claim, the quoted sentence, the departures
  config_hash: str = None  # of the grid the verdicts come from
  design: dict = None  # a design's record (sslgap.design): its grid is the confirmation of a sized experiment
  preset_scale: str = None  # the preset its claims and notes are read from (a design's: the one it started from)


def _complete_grid(folder, config_hash=None):
  """The folder's merged grid if it is complete (and of this config, when config_hash is given)."""
  try:
    record = Folder(folder).plan()
  except errors.StoreError:
    return None
  if record and Folder(folder).is_complete(record) and config_hash in (None, record.config_hash):
    return Folder(folder).merged_path(record)
  return None


def run_one(experiment, scale, out_root, log=print):
  """Runs the experiment into <out_root>/<scale>/<id> unless a complete grid of its current config is
  there (a folder of an older config starts over); returns an Entry with the grid, the wall time of
  every invocation so far, or the error."""
  folder = os.path.abspath(os.path.join(out_root, scale, experiment.id))
  entry = Entry(experiment, scale, folder)
  config = catalog.load_config(experiment, scale)
  current = results_lib.config_hash(config_lib.to_json(config))
  try:
    record = Folder(folder).plan()
  except errors.StoreError:
    record = None
  stale = record is not None and record.config_hash != current
  wall_path = os.path.join(folder, WALL_FILE)
  wall = json.load(open(wall_path)) if os.path.exists(wall_path) and not stale else {'seconds': 0.0, 'runs': []}
  entry.grid = _complete_grid(folder, current)
  if entry.grid is None:
    preset = experiment.preset(scale)
    command = [sys.executable, os.path.join('experiments', f'{experiment.script}.py'),
               f'--config={experiment.config_path}' + (f':{preset}' if preset else ''), f'--out={folder}', '--quiet']
    if stale:
      command.append('--fresh')  # the config changed since this folder was filled
      log(f'{experiment.id}: the grid in {folder} is of an older config; running it again')
    log(f'running {experiment.id} ({scale}): {" ".join(command[1:])}')
    start = time.time()
    try:
      returncode, _, stderr = stopping.run_forwarding_signals(command, cwd=catalog.ROOT)
    except stopping.Interrupted:
      _add_wall(wall_path, wall, time.time() - start, 128)
      raise
    _add_wall(wall_path, wall, time.time() - start, returncode)
    entry.grid = _complete_grid(folder, current)
    if entry.grid is None:
      lines = [line for line in stderr.strip().splitlines() if line.strip()]
      entry.error = f'exit code {returncode}: {lines[-1] if lines else "no output"}'
      log(f'  failed: {entry.error}')
  entry.wall_seconds = wall['seconds'] or None
  return entry


def _add_wall(path, wall, seconds, exit_code):
  files.ensure_folder(os.path.dirname(path))
  wall['seconds'] += seconds
  wall['runs'].append({'seconds': seconds, 'finished': datetime.datetime.now().isoformat(timespec='seconds'),
                       'exit_code': exit_code})
  files.write_text(path, json.dumps(wall, indent=1))


def check(entry):
  """Evaluates the claims of the experiment's current config (claims, notes and the paper section do
  not change a grid, so they may be edited after it ran) on its grid; a claim that cannot be evaluated
  becomes an error line in the report, never a crash."""
  if entry.grid is None:
    return entry
  grid = sweep.with_examples(results_lib.load(entry.grid))  # a grid from before examples were recorded
  config = catalog.load_config(entry.experiment, entry.preset_scale or entry.scale)
  config_lib.load_plugins(config)  # a claim kind may be a plug-in's
  entry.notes = config.get('notes', '') or ''
  entry.paper = dict(config.get('paper') or {})
  entry.config_hash = str(grid.info.get('config_hash', ''))
  entry.results = grid.with_plot(config_lib.section_json(config, 'plot'))  # drawn by today's plot section
  try:
    notes_lib.check(config)  # notes may be edited after the run: a bad citation is said, not fatal
  except errors.ConfigError as e:
    entry.notes = f'(The notes could not be rendered: {e}.)'
  stated_claims = list(config.get('claims') or ())
  if entry.design and entry.design.get('claim'):  # a design's grid is cut to the one claim it sized
    stated_claims = [c for c in stated_claims if c.get('name') == entry.design['claim']]
  for stated in stated_claims:
    stated = json.loads(json.dumps(stated))  # as the grid's config_json has it
    try:
      expanded = claims_lib.expand(stated, grid)
    except Exception as e:  # noqa: BLE001 - a bad claim is reported, not fatal
      expanded, error = [], e
      entry.verdicts.append(_error(stated, error))
    for claim in expanded:
      try:
        entry.verdicts.append(claims_lib.evaluate(claim, grid))
      except Exception as e:  # noqa: BLE001
        entry.verdicts.append(_error(claim, e))
  return entry


def _error(claim, error):
  return claims_lib.Verdict(dict(claim), 'error', f'{type(error).__name__}: {error}', float('nan'), float('nan'),
                            float('nan'), {})


def draw_figure(entry, figures_dir, report_dir, log=print):
  """The experiment's figure beside the report, drawn from its grid by today's sslgap.plotting with the
  current config's plot section (a PNG saved when the grid ran may predate a change to either: neither
  changes a grid); that PNG, copied, only if the grid cannot be drawn."""
  if not entry.grid:
    return entry
  files.ensure_folder(figures_dir)
  target = os.path.join(figures_dir, f'{entry.experiment.id}.png')
  try:
    grid = entry.results if entry.results is not None else sweep.with_examples(results_lib.load(entry.grid))
    plotting.save(plotting.draw(grid), target)
  except Exception as e:  # noqa: BLE001 -- a figure that cannot be drawn must not cost the report
    png = os.path.splitext(entry.grid)[0] + '.png'
    if not os.path.exists(png):
      log(f'warning: {entry.experiment.id}: no figure ({type(e).__name__}: {e})')
      return entry
    log(f'warning: {entry.experiment.id}: figure copied as run ({type(e).__name__}: {e})')
    shutil.copyfile(png, target)
  entry.figure = os.path.relpath(target, report_dir)
  return entry


def _cpu_name():
  """'2-core AMD EPYC ...' from /proc/cpuinfo, or the core count alone."""
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
  try:
    with open('/proc/cpuinfo') as f:
      model = next(line.split(':', 1)[1].strip() for line in f if line.startswith('model name'))
    return f'{cores}-core {model}'
  except (OSError, StopIteration):
    return f'{cores}-core CPU'


def _duration(seconds):
  return command.duration(seconds) if seconds else 'n/a'


def markdown(entries, scale, machine, command, other_reports=None, other_rows=None, kept=None):
  """The report; other_reports: {scale: relative link} of the reports of the other scales; other_rows:
  {scale: its findings rows} (their JSON), to set the scales' findings side by side; kept: {id:
  report_sections.Kept} of an earlier report's experiments that this one carries over as written."""
  kept = kept or {}
  verdicts = [v for e in entries for v in e.verdicts]
  counts = {k: sum(v.verdict == k for v in verdicts) for k in claims_lib.OUTCOMES + (claims_lib.ERROR,)}
  reasons = {r: sum(v.reason == r for v in verdicts if v.verdict == claims_lib.UNDETERMINED) for r in claims_lib.REASONS}
  flagged = {f: sum(f in v.flag_names for v in verdicts) for f in claims_lib.FLAGS}
  crossed = [v for v in verdicts if v.tuning == 'cross-fitted' and v.in_sample]
  moved = [v for v in crossed if v.in_sample[0] != v.verdict]
  widths = [(v.high - v.low) / (v.in_sample[3] - v.in_sample[1]) for v in crossed
            if v.in_sample[3] - v.in_sample[1] > 0 and v.high - v.low > 0]
  total_wall = sum(e.wall_seconds or 0 for e in entries)
  other_reports = other_reports or {}
  superseded = [e.experiment.id for e in entries
                if any(e.experiment.has(s) for s in other_reports if _larger(s, scale))]
  by_entry = {e.experiment.id: e for e in entries}
  order = catalog.in_order(list(by_entry) + [i for i in kept if i not in by_entry])
  rows = _rows(entries, kept)
  kept_words = ''
  if kept:
    days = sorted({k.written for k in kept.values()})
    kept_words = (f' {len(kept)} experiment(s) ({", ".join(f"`{i}`" for i in order if i in kept)}) are kept from the '
                  f'report(s) of {", ".join(days)}, whose grids are not in this run\'s folder: their rows and sections '
                  'are carried over as written, each marked, not recomputed.')
  lines = [
      f'# Reproduction report: the `{scale}` preset',
      '',
      f'Generated by `{command}` on {datetime.date.today():%Y-%m-%d} ({machine}). Every number below is',
      f'computed from the result grids (`<out>/{scale}/<experiment>/<name>.npz`) by `sslgap.claims`; none is typed by',
      'hand.' + kept_words + ''.join(f' The `{s}` report: [{os.path.basename(link)}]({link}).'
                                    for s, link in other_reports.items()),
      '',
      '## Findings',
      '',
      'One line per experiment: the paper\'s own sentence it tests, its outcome and the number that says it, and how',
      'our setting departs from the paper\'s. **reproduced**: the 95% interval lies on the paper\'s side; **opposite**: on',
      'the other side; **smaller than the paper\'s**: it excludes the smallest effect the paper shows; **undetermined**:',
      'none of these, with the reason (sslgap.findings).',
  ]
  if superseded:
    lines.append(f'The rows marked (superseded) were also run at a larger scale, whose report settles them: '
                 f'{", ".join(f"[{s}]({link})" for s, link in other_reports.items() if _larger(s, scale))}.')
  lines += ['', findings_lib.totals(rows) + '.', '', findings_lib.table(rows, {scale: ''}, superseded)]
  both = findings_lib.tiers_table(dict(other_rows or {}, **{scale: rows}), dict(other_reports, **{scale: ''}))
  if both:
    lines += ['', '### The scales side by side', '',
              'The same experiment\'s finding at each scale it ran at (the other scales\' as their reports last '
              'wrote them).', '', both]
  lines += [
      '',
      '## Method',
      '',
      'Each claim of the paper is stated in its config (`claims`) in a testable form, and each experiment names the',
      'one that tests the paper\'s own sentence (`paper`: the claim, the sentence quoted, where it stands, how our',
      'setting departs). A claim reduces every seed to one number of its statistic, positive in the paper\'s',
      'direction and paired across its series (the same seed is the same initialisation and data); its 95%',
      'interval is Student\'s t over those numbers. That interval holds its level at the seeds presets use',
      '(`tests/test_calibration.py` simulates every kind with normal, heavy-tailed and censored seeds: 93% to 97%',
      f'coverage from {claims_lib.MIN_SEEDS} seeds on; fewer decide nothing), where the percentile bootstrap used',
      'before covered 52% of the time at 2 seeds and 79% at 4.',
      '',
      'Axes a series does not fix (a learning-rate grid) are tuned inside the interval: each half of the seeds is',
      'measured at the setting tuned on the other half (cross-fitting). '
      + (f'Of {len(crossed)} claims with a tuned axis, {len(moved)} would have another outcome tuned on the very seeds '
         'they are measured on'
         + (': ' + '; '.join(f'*{findings_lib.cell(v.claim.get("text", ""))}* ({v.in_sample[0]} in-sample, {v.verdict} '
                            'cross-fitted)' for v in moved[:8]) + (' ...' if len(moved) > 8 else '') if moved else '')
         + (f'; the cross-fitted intervals are {np.median(widths):.2g} times as wide as the in-sample ones (median)'
            if widths else '') + '.' if crossed else 'No claim here has a tuned axis.'),
      '',
      'Times to a target are interpolated between evaluations and restricted to the horizon: a seed that never',
      'reaches the target counts as the last step, so no seed is dropped, the effect can only be understated, and',
      'each series says how many seeds never reached it. Each claim has a smallest effect of interest, taken from',
      'the paper where it states a number (the claim says where), else fixed in advance (a quarter faster, 5 points',
      'of accuracy, a tenth of the other series\' loss). "As fast" is an equivalence: its interval must lie within a',
      'margin, fixed or a share of a baseline gap measured on the same seeds; "closes the gap" is a one-sided bound:',
      'the gap left must be below half the baseline gap on the same seeds (both differences of differences). A',
      'flag qualifies any outcome, which is then undetermined: **at the ceiling** (every metric',
      'the claim reads is saturated at the end), **grid edge** (a tuned value at an end of its grid), **lr not',
      'tuned** (one learning rate where the paper tunes it), **by construction** (a compute claim won by processing',
      'fewer examples per step), **no baseline gap** (nothing to close). Wall times are of this machine.',
      '',
      f'{sum(counts.values())} claims: ' + ', '.join(f'{n} {k}' for k, n in counts.items() if n)
      + '; undetermined because ' + (', '.join(f'{n} {r}' for r, n in reasons.items() if n) or 'of nothing')
      + '; flags: ' + ', '.join(f'{n} {f}' for f, n in flagged.items())
      + f'; {len(entries)} experiments, {_duration(total_wall)} of wall time'
      + (f' (the {len(kept)} kept from earlier reports are not counted here; their lines below are as written then)'
         if kept else '') + '.',
      '',
      '| fig | experiment | claim | outcome | the number [95% interval] | seeds | tuning | wall time |',
      '|---|---|---|---|---|---:|---|---:|',
  ]
  for experiment_id in order:
    if experiment_id not in by_entry:
      lines += kept[experiment_id].claim_lines
      continue
    e = by_entry[experiment_id]
    if e.error or not e.verdicts:
      lines.append(f'| {e.experiment.figure} | [`{e.experiment.id}`](#{e.experiment.id}) | '
                   f'{"run failed" if e.error else "no claim stated"} | n/a | | | | {_duration(e.wall_seconds)} |')
    for i, (text, outcome, effect, seeds, tuning) in enumerate(_summary_rows(e.verdicts, e.experiment.id)):
      lines.append(f'| {e.experiment.figure if i == 0 else ""} | '
                   f'{f"[`{e.experiment.id}`](#{e.experiment.id})" if i == 0 else ""} | {findings_lib.cell(text)} | '
                   f'{outcome} | {findings_lib.cell(effect)} | {seeds} | {tuning} | '
                   f'{_duration(e.wall_seconds) if i == 0 else ""} |')
  by_id = {r['id']: r for r in rows}
  for experiment_id in order:
    if experiment_id not in by_entry:
      lines += ['', kept[experiment_id].section]
      continue
    e = by_entry[experiment_id]
    run_by = (f'python -m sslgap.design --only {e.experiment.id} --scale {e.preset_scale}' if e.design
              else e.experiment.command(scale))
    lines += ['', f'## <a id="{e.experiment.id}"></a>Fig {e.experiment.figure}: `{e.experiment.id}`', '',
              f'`{run_by}` ({_duration(e.wall_seconds)})']
    if e.design:
      lines += ['', design_words(e.design)]
    if e.error:
      lines += ['', f'The run failed: {e.error}.']
      continue
    row = by_id.get(e.experiment.id)
    if row:
      lines += ['', f'**Conclusion: {row["outcome"]}**' + (f' ({row["reason"]})' if row['reason'] else '')
                + f': {row["sentence"]}.' + (f' To decide: {row["to_decide"]}.' if row.get('to_decide') else '')]
      if row.get('quote'):
        lines += ['', f'The paper ({row["where"]}): "{row["quote"]}"']
      if row.get('departs'):
        lines += ['', f'How our setting departs: {row["departs"]}.']
    for v in e.verdicts:
      c = v.claim
      try:
        tested = claims_lib.describe(c)
      except (KeyError, TypeError, ValueError):
        tested = f'(a malformed claim: {json.dumps(c)})'
      if v.verdict == claims_lib.ERROR:
        lines += ['', f'- **could not be evaluated**: {c.get("text", "")}', f'  - tested: {tested}',
                  f'  - {v.statistic}']
        continue
      outcome = v.verdict + (f' ({findings_lib.why(v)})' if v.verdict == claims_lib.UNDETERMINED else '')
      lines += ['', f'- **{outcome}**: {c.get("text", "")}', f'  - tested: {tested}',
                f'  - measured: {findings_lib.sentence(v)}', f'  - per seed: {v.describe()}']
      if math.isfinite(v.min_effect) and v.min_effect > 0:
        lines.append(f'  - smallest effect of interest: {claims_lib.fmt(v.min_effect)} ({v.min_effect_source})')
      lines += [f'  - flag, {flag}: {why}' for flag, why in v.flags]
      if v.flags and v.interval_says != v.verdict:
        lines.append(f'  - the interval alone would say: {v.interval_says}')
      if v.in_sample and v.in_sample[0] != v.verdict and v.tuning == 'cross-fitted':
        lines.append(f'  - tuned on the same seeds it would be {v.in_sample[0]}: '
                     f'{claims_lib.fmt_interval(v.in_sample[1], v.in_sample[2], v.in_sample[3])}')
    if e.figure:
      lines += ['', f'![{e.experiment.id}]({e.figure})']
    if e.notes:
      lines += ['', ' '.join(notes_lib.render(e.notes, e.verdicts).split())]
  return '\n'.join(lines) + '\n'


def design_words(d):
  """A design record (sslgap.design) in words, for the report beside the verdict it sized."""
  rounds = d.get('pilot_rounds') or []
  lrs = sorted({lr for r in rounds for lr in r.get('lrs', [])})
  best = '; '.join(f'{k} {v:g}' for k, v in (d.get('pilot_best_lr') or {}).items())
  budget = d.get('budget_seconds')
  return (f'**Design.** A pilot on {d["pilot_seeds"]} seeds over lrs {", ".join(f"{v:g}" for v in lrs)} '
          f'({len(rounds)} round{"s" if len(rounds) != 1 else ""}; best: {best}) set the horizon to '
          f'{d["steps"]:,} steps' + (' (capped)' if d.get('horizon_capped') else '')
          + f', an evaluation every {d["eval_every"]:,}, and the lrs {", ".join(f"{v:g}" for v in d["lrs"])}. '
          f'The spread of the claim\'s per-seed numbers on the pilot, {claims_lib.fmt(d["pilot_spread"])}, and its '
          f'smallest effect of interest, {claims_lib.fmt(d["min_effect"])}, need {d["seeds_needed"]} seeds for '
          f'{d["power"]:.0%} power; the confirmation ran {d["seeds"]} fresh seeds'
          + (f' (budget {_duration(budget)}' if budget else ' (no budget') + f', projected {_duration(d["projected_seconds"])})'
          + (f'; {d["note"]}' if d.get('note') else '')
          + (f'; the pilot left {d["pilot_unresolved"]}' if d.get('pilot_unresolved') else '')
          + '. Its verdict comes from its own seeds alone.' + _second_look_words(d))


def _second_look_words(d):
  first = d.get('first_look')
  if not first:
    return ''
  return (f' **Second look.** The first look ({first["seeds"]} seeds over lrs '
          f'{", ".join(f"{v:g}" for v in first["lrs"])}) tuned an lr at the {" and ".join(first["ends"])} end of its '
          f'lrs, so it could not decide; this verdict is a second look on {d["seeds"]} fresh seeds (from '
          f'{d["seed_start"]}) over lrs {", ".join(f"{v:g}" for v in d["lrs"])}, from its own seeds alone '
          '(what a second look adds to the error: `python -m sslgap.design --help`).')


def _rows(entries, kept):
  """The findings rows of the entries and of the kept experiments, in the report's order."""
  new_rows = {r['id']: r for r in findings_lib.of_entries(entries)}
  order = catalog.in_order([e.experiment.id for e in entries] + [i for i in kept if i not in new_rows])
  return [new_rows[i] if i in new_rows else kept[i].row for i in order if i in new_rows or i in kept]


def _larger(scale, than):
  order = findings_lib.SCALE_ORDER
  return scale in order and than in order and order.index(scale) > order.index(than)


def _summary_rows(verdicts, anchor):
  """(claim, outcome, effect, seeds, tuning) rows: a claim checked per value of an axis is one row counting
  its outcomes, linking to the values below."""
  rows, groups = [], {}
  for v in verdicts:
    stated = v.claim.get('stated')
    if stated is None:
      rows.append((v.claim.get('text', ''), [v]))
    elif stated not in groups:
      groups[stated] = [v]
      rows.append((stated, groups[stated]))
    else:
      groups[stated].append(v)
  out = []
  for text, group in rows:
    if len(group) == 1 and group[0].claim.get('stated') is None:
      v = group[0]
      if v.verdict == claims_lib.ERROR:
        out.append((text, 'could not be evaluated', '', '', ''))
        continue
      outcome = f'**{v.verdict}**' + (f' ({v.reason})' if v.reason else '')
      out.append((text, outcome, f'{v.statistic} {claims_lib.fmt_interval(v.low, v.estimate, v.high)}', v.seeds_counted,
                  v.tuning))
      continue
    out.append((f'{text} ([checked at each of {len(group)} values](#{anchor}))',
                f'per value: {notes_lib.count_outcomes(group)}', '', group[0].seeds, group[0].tuning))
  return out


def generate(experiments, scale, out_root, report_path, figures_dir=None, command='', log=print,
             other_reports=None, found=None, update=False):
  """Runs what is missing, checks every claim, writes the report and its findings (REPORT.json beside
  REPORT.md); returns the entries. other_reports: {scale: path} of the other scales' reports, linked.
  found: entries whose grids are already there (a design's confirmations) instead of running experiments.
  update: the report at report_path keeps its other experiments as written (sslgap.report_sections), and an
  experiment whose run fails keeps its earlier row too, said in the log; a ValueError, before anything runs,
  when there is no report (and JSON) to update or its JSON and markdown disagree."""
  earlier = kept_of(report_path, []) if update else {}
  regenerated = {e.experiment.id for e in found} if found is not None else {e.id for e in experiments}
  kept = {i: k for i, k in earlier.items() if i not in regenerated}
  report_dir = os.path.dirname(os.path.abspath(report_path))
  figures_dir = figures_dir or os.path.join(report_dir, 'figures', scale)
  entries = []
  for entry in found if found is not None else (run_one(e, scale, out_root, log) for e in experiments):
    if entry.error and entry.experiment.id in earlier:  # a failed run does not replace what an earlier one found
      log(f'  {entry.experiment.id}: the run failed ({entry.error}); its earlier row is kept')
      kept[entry.experiment.id] = earlier[entry.experiment.id]
      continue
    entry = check(entry)
    entries.append(draw_figure(entry, figures_dir, report_dir, log))
    for v in entry.verdicts:
      log(f'  {entry.experiment.id}: {v.verdict}: {v.claim.get("text", "")[:80]}')
  device = backend.local_devices()[0]
  machine = (_cpu_name() if device.platform == 'cpu' else device.device_kind) + \
      f', JAX {backend.jax_version()}, sslgap {__version__}'
  files.ensure_folder(report_dir)
  links = {s: os.path.relpath(p, report_dir) for s, p in (other_reports or {}).items() if s != scale}
  others = findings_lib.rows_of({s: p for s, p in (other_reports or {}).items() if s != scale})
  text = markdown(entries, scale, machine, command, links, others, kept)
  files.write_text(report_path, text)
  findings_lib.write_rows(report_path, _rows(entries, kept))
  return entries


def kept_of(report_path, regenerated):
  """{id: Kept} of the experiments of the report at report_path that an update regenerating `regenerated` keeps."""
  rows_path = findings_lib.json_path(report_path)
  if not os.path.isfile(report_path) or not os.path.isfile(rows_path):
    raise ValueError(f'{report_path}: no report (and {os.path.basename(rows_path)} beside it) to update')
  with open(report_path) as f:
    text = f.read()
  rows = findings_lib.read(rows_path)
  if not findings_lib.is_current(rows):
    raise ValueError(f'{rows_path}: written by an older sslgap; generate the whole report again')
  try:
    return report_sections.kept(text, rows, set(regenerated))
  except ValueError as e:
    raise ValueError(f'{report_path}: {e}') from None
