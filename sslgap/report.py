"""The reproduction report: run what is missing, check every claim on the grids, write markdown.

Every number in the report is computed here from the .npz grids, with bootstrap intervals over
seeds (sslgap.claims); what only a person can write (what we tried, why a size was chosen)
comes from each config's `notes`. See python -m sslgap.reproduce.
"""

import dataclasses
import datetime
import json
import os
import shutil
import sys
import time

from sslgap import backend
from sslgap import catalog
from sslgap import claims as claims_lib
from sslgap import command
from sslgap import config as config_lib
from sslgap import errors
from sslgap import files
from sslgap import findings as findings_lib
from sslgap import folder_paths
from sslgap import merging
from sslgap import notes as notes_lib
from sslgap import plan_file
from sslgap import plotting
from sslgap import results as results_lib
from sslgap import stopping
from sslgap import sweep
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


def _complete_grid(folder, config_hash=None):
  """The folder's merged grid if it is complete (and of this config, when config_hash is given)."""
  try:
    record = plan_file.read_plan(folder)
  except errors.StoreError:
    return None
  if record and merging.is_complete(folder, record) and config_hash in (None, record['config_hash']):
    return folder_paths.merged_paths(folder, record['name'])[0]
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
    record = plan_file.read_plan(folder)
  except errors.StoreError:
    record = None
  stale = record is not None and record['config_hash'] != current
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


def check(entry, n=2000):
  """Evaluates the claims of the experiment's current config (claims and notes do not change a
  grid, so they may be edited after it ran) on its grid; a claim that cannot be evaluated becomes
  an error line in the report, never a crash."""
  if entry.grid is None:
    return entry
  grid = sweep.with_examples(results_lib.load(entry.grid))  # a grid from before examples were recorded
  config = catalog.load_config(entry.experiment, entry.scale)
  config_lib.load_plugins(config)  # a claim kind may be a plug-in's
  entry.notes = config.get('notes', '') or ''
  entry.results = grid.with_plot(config_lib.section_json(config, 'plot'))  # drawn by today's plot section
  try:
    notes_lib.check(config)  # notes may be edited after the run: a bad citation is said, not fatal
  except errors.ConfigError as e:
    entry.notes = f'(The notes could not be rendered: {e}.)'
  for stated in config.get('claims') or ():
    stated = json.loads(json.dumps(stated))  # as the grid's config_json has it
    try:
      expanded = claims_lib.expand(stated, grid)
    except Exception as e:  # noqa: BLE001 - a bad claim is reported, not fatal
      expanded, error = [], e
      entry.verdicts.append(_error(stated, error))
    for claim in expanded:
      try:
        entry.verdicts.append(claims_lib.evaluate(claim, grid, n=n, cross_fit=True))
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


def markdown(entries, scale, machine, bootstrap_n, command, other_reports=None, other_rows=None):
  """The report; other_reports: {scale: relative link} of the reports of the other scales; other_rows:
  {scale: its findings rows} (their JSON), to set the scales' findings side by side."""
  verdicts = [v for e in entries for v in e.verdicts]
  counts = {k: sum(v.verdict == k for v in verdicts) for k in ('agrees', 'disagrees', 'inconclusive', 'error')}
  flagged = {f: sum(f in v.flag_names for v in verdicts) for f in claims_lib.FLAGS}
  agree_flagged = sum(bool(v.flags) for v in verdicts if v.verdict == 'agrees')
  crossed = [v for v in verdicts if v.cross_fitted]
  moved = [v for v in crossed if v.cross_fitted[0] != v.cross_fitted[1]]
  total_wall = sum(e.wall_seconds or 0 for e in entries)
  other_reports = other_reports or {}
  superseded = [e.experiment.id for e in entries
                if any(e.experiment.has(s) for s in other_reports if _larger(s, scale))]
  lines = [
      f'# Reproduction report: the `{scale}` preset',
      '',
      f'Generated by `{command}` on {datetime.date.today():%Y-%m-%d} ({machine}). Every number below is',
      f'computed from the result grids (`<out>/{scale}/<experiment>/<name>.npz`) by `sslgap.claims`; none is typed by',
      'hand.' + ''.join(f' The `{s}` report: [{os.path.basename(link)}]({link}).' for s, link in other_reports.items()),
      '',
      '## Findings',
      '',
      'One line per experiment: its first claim (the figure\'s main one) is **reproduced** when it agrees and no',
      'flag qualifies it, **not reproduced** when it disagrees, **unresolved** otherwise (sslgap.findings).',
  ]
  if superseded:
    lines.append(f'The rows marked (superseded) were also run at a larger scale, whose report settles them: '
                 f'{", ".join(f"[{s}]({link})" for s, link in other_reports.items() if _larger(s, scale))}.')
  rows = findings_lib.of_entries(entries)
  lines += ['', findings_lib.table(rows, {scale: ''}, superseded)]
  both = findings_lib.tiers_table(dict(other_rows or {}, **{scale: rows}), dict(other_reports, **{scale: ''}))
  if both:
    lines += ['', '### The scales side by side', '',
              'The same experiment\'s finding at each scale it ran at (the other scales\' as their reports last '
              'wrote them).', '', both]
  lines += [
      '',
      '## Method',
      '',
      'Each claim of the paper is stated in its config (`claims`) in a testable form. Its statistic',
      f'has a 95% percentile bootstrap interval over seeds ({bootstrap_n:,} resamples, seeds paired across the',
      'series of a claim): the claim **agrees** when the whole interval lies on its side, **disagrees** when it lies',
      'wholly on the other side, and is **inconclusive** otherwise. Axes a series does not fix (a learning-rate',
      'grid) are tuned per series on the seed mean, as the figures are. Times to a target are medians over',
      'seeds with runs that never reach it counted as "> last step". Wall times are of this machine.',
      '',
      'Tuning the learning rate on the very runs an interval is computed from makes the interval optimistic',
      '(the best of several noisy settings is chosen for its luck too). To measure by how much, every claim',
      'on 4 or more seeds is also checked on its odd seeds twice: tuned on those seeds themselves, and tuned on',
      f'the even seeds (cross-fitted). Of {len(crossed)} claims so checked, {len(moved)} change{"s" if len(moved) == 1 else ""} verdict'
      + (': ' + '; '.join(f'*{findings_lib.cell(v.claim.get("text", ""))}* ({v.cross_fitted[0]} -> {v.cross_fitted[1]})'
                         for v in moved) if moved else '') + '.',
      '',
      'Flags qualify a verdict, so that the counts do not flatter: **by construction** (a compute claim won by',
      'processing fewer examples per step), **at the ceiling** (both series end saturated, so the end cannot tell',
      'them apart), **grid edge** (an optimum at the edge of its grid), **not reached** (neither series reaches',
      'the target: no evidence either way).',
      '',
      f'{sum(counts.values())} claims: {counts["agrees"]} agrees ({agree_flagged} of them flagged), {counts["disagrees"]} '
      f'disagrees, {counts["inconclusive"]} inconclusive'
      + (f', {counts["error"]} could not be evaluated' if counts['error'] else '')
      + '; flags: ' + ', '.join(f'{n} {f}' for f, n in flagged.items())
      + f'; {len(entries)} experiments, {_duration(total_wall)} of wall time.',
      '',
      '| fig | experiment | claim | verdict | effect [95% interval] | flags | wall time |',
      '|---|---|---|---|---|---|---:|',
  ]
  for e in entries:
    if e.error or not e.verdicts:
      lines.append(f'| {e.experiment.figure} | [`{e.experiment.id}`](#{e.experiment.id}) | '
                   f'{"run failed" if e.error else "no claim stated"} | n/a | | | {_duration(e.wall_seconds)} |')
    for i, (text, verdict, effect, flags) in enumerate(_summary_rows(e.verdicts, e.experiment.id)):
      lines.append(f'| {e.experiment.figure if i == 0 else ""} | {f"[`{e.experiment.id}`](#{e.experiment.id})" if i == 0 else ""} '
                   f'| {findings_lib.cell(text)} | {verdict} | {findings_lib.cell(effect)} | {flags} | {_duration(e.wall_seconds) if i == 0 else ""} |')
  for e in entries:
    lines += ['', f'## <a id="{e.experiment.id}"></a>Fig {e.experiment.figure}: `{e.experiment.id}`', '',
              f'`{e.experiment.command(scale)}` ({_duration(e.wall_seconds)})']
    if e.error:
      lines += ['', f'The run failed: {e.error}.']
      continue
    for v in e.verdicts:
      c = v.claim
      try:
        tested = claims_lib.describe(c)
      except (KeyError, TypeError, ValueError):
        tested = f'(a malformed claim: {json.dumps(c)})'
      measured = v.statistic if v.verdict == 'error' else v.describe()
      lines += ['', f'- **{v.verdict}**: {c.get("text", "")}', f'  - tested: {tested}', f'  - measured: {measured}']
      lines += [f'  - flag, {flag}: {why}' for flag, why in v.flags]
      if v.cross_fitted and v.cross_fitted[0] != v.cross_fitted[1]:
        lines.append(f'  - on the odd seeds: {v.cross_fitted[0]} tuned on themselves, {v.cross_fitted[1]} tuned on the '
                     'even seeds (cross-fitted)')
    if e.figure:
      lines += ['', f'![{e.experiment.id}]({e.figure})']
    if e.notes:
      lines += ['', ' '.join(notes_lib.render(e.notes, e.verdicts).split())]
  return '\n'.join(lines) + '\n'


def _larger(scale, than):
  order = findings_lib.SCALE_ORDER
  return scale in order and than in order and order.index(scale) > order.index(than)


def _summary_rows(verdicts, anchor):
  """(claim, verdict, effect, flags) rows: a claim checked per value of an axis is one row counting
  its verdicts (and its flags), linking to the values below."""
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
    flags = sorted({f for v in group for f in v.flag_names}, key=claims_lib.FLAGS.index)
    if len(group) == 1 and group[0].claim.get('stated') is None:
      v = group[0]
      effect = '' if v.verdict == 'error' else f'{v.statistic} {claims_lib.fmt_interval(v.low, v.estimate, v.high)}'
      out.append((text, f'**{v.verdict}**', effect, ', '.join(flags)))
      continue
    names = [v.verdict for v in group]
    counts = ', '.join(f'{names.count(k)} {k}' for k in ('agrees', 'disagrees', 'inconclusive', 'error') if names.count(k))
    flag_counts = ', '.join(f'{sum(f in v.flag_names for v in group)} {f}' for f in flags)
    out.append((f'{text} ([checked at each of {len(group)} values](#{anchor}))', f'per value: {counts}', '',
                flag_counts))
  return out


def generate(experiments, scale, out_root, report_path, figures_dir=None, bootstrap_n=2000, command='', log=print,
             other_reports=None):
  """Runs what is missing, checks every claim, writes the report and its findings (REPORT.json beside
  REPORT.md); returns the entries. other_reports: {scale: path} of the other scales' reports, linked."""
  report_dir = os.path.dirname(os.path.abspath(report_path))
  figures_dir = figures_dir or os.path.join(report_dir, 'figures', scale)
  entries = []
  for experiment in experiments:
    entry = check(run_one(experiment, scale, out_root, log), bootstrap_n)
    entries.append(draw_figure(entry, figures_dir, report_dir, log))
    for v in entry.verdicts:
      log(f'  {experiment.id}: {v.verdict}: {v.claim.get("text", "")[:80]}')
  device = backend.local_devices()[0]
  machine = (_cpu_name() if device.platform == 'cpu' else device.device_kind) + \
      f', JAX {backend.jax_version()}, sslgap {__version__}'
  files.ensure_folder(report_dir)
  links = {s: os.path.relpath(p, report_dir) for s, p in (other_reports or {}).items() if s != scale}
  others = findings_lib.rows_of({s: p for s, p in (other_reports or {}).items() if s != scale})
  files.write_text(report_path, markdown(entries, scale, machine, bootstrap_n, command, links, others))
  findings_lib.write(report_path, entries)
  return entries
