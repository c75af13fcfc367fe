"""Runs the paper's experiments at a scale, checks every claim, and writes the reproduction report.

  python -m sslgap.reproduce                                   # the small scale -> docs/REPRODUCTION.md
  python -m sslgap.reproduce --scale medium                   # -> docs/REPRODUCTION_MEDIUM.md
  python -m sslgap.reproduce --scale paper --only fig6_init,fig2_parity_gd --out results/
  python -m sslgap.reproduce --scale design --out docs/grids --only fig6_init --update

Each experiment (sslgap.catalog) runs into <out>/<scale>/<experiment> unless its grid is complete
there (an interrupted one resumes), then its claims are checked on the grid (sslgap.claims: a t
interval over seeds, tuning cross-fitted) and the report is written from the grids alone, with each figure drawn from its grid beside it.
The report goes to --report; by default to docs/ when every experiment of a scale runs into
results/, else next to the grids (<out>/<scale>/REPORT.md), so a partial run never replaces
the docs' report; --update regenerates the --only experiments in the report (by default the docs' report
of the scale) and keeps its other rows as written, each marked with the day it was. SIGINT or SIGTERM is passed on to the experiment running, which saves its
chunks; then this exits with 128 + the signal number.
"""

import os
import sys

from sslgap.paper import catalog
from sslgap import design
from sslgap.base import command
from sslgap.paper import findings
from sslgap.paper import report as report_lib
from sslgap.engine import stopping

REPORTS = findings.REPORTS
DEFAULT_OUT = 'results'


def default_report(scale, out, some_only):
  """The docs' report when every experiment of the scale runs into the default folder; else next to the grids."""
  if not some_only and os.path.normpath(out) == DEFAULT_OUT:
    return REPORTS[scale]
  return os.path.join(out, scale, 'REPORT.md')


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.reproduce', description=__doc__.splitlines()[0])
  parser.add_argument('--scale', '--preset', dest='scale', default='small', choices=catalog.SCALES + ('design',),
                      help='the scale to run (default small); design: report the confirmations of '
                      'python -m sslgap.design in <out>/designs (nothing is run); --preset is its older name')
  parser.add_argument('--only', default=None, help='comma-separated experiment ids (default: every one at the scale)')
  parser.add_argument('--out', default=DEFAULT_OUT, help='where the grids go: <out>/<scale>/<experiment>')
  parser.add_argument('--report', default=None, help='the markdown file to write (default: by scale, '
                      + ', '.join(f'{k}: {v}' for k, v in REPORTS.items()) + f', when every experiment runs into '
                      f'{DEFAULT_OUT}/; else <out>/<scale>/REPORT.md)')
  parser.add_argument('--update', action='store_true', help='regenerate only the --only experiments in the report '
                      '(default: the docs\' report of the scale) and keep its other rows as written, marked with the day '
                      'they were (their grids may be gone); README follows when it is the docs\' report')
  args = parser.parse_args(argv)
  if args.update and not args.only:
    command.fail('--update: give the experiments to regenerate with --only (the others are kept as written)')
  if args.only is not None and not [i for i in args.only.split(',') if i.strip()]:
    command.fail('--only: give experiment ids, e.g. --only fig1_parity,fig6_init (leave it out for every experiment)')
  ids = [i.strip() for i in (args.only or '').split(',') if i.strip()]
  found = None
  try:
    experiments = catalog.for_scale(args.scale, ids) if args.scale != 'design' else catalog.find(ids)
  except ValueError as e:
    command.fail(f'--only: {e}')
  if args.scale == 'design':
    found = design.entries(args.out, ids)
    experiments = [e.experiment for e in found]
    missing = [i for i in ids if i not in {e.experiment.id for e in found}]
    if missing and args.update:  # else its earlier row would come back as kept, as if regenerated
      command.fail(f'--only: no finished design of {", ".join(missing)} in {os.path.join(args.out, "designs")} '
                   '(python -m sslgap.design runs it)')
    if not found:
      command.fail(f'no design has a finished confirmation in {os.path.join(args.out, "designs")} '
                   '(python -m sslgap.design runs them)')
  if not experiments:
    command.fail(f'no experiment has a preset at the {args.scale!r} scale' + (f' among {ids}' if ids else ''))
  report = args.report or (REPORTS[args.scale] if args.update else default_report(args.scale, args.out, bool(ids)))
  invocation = 'python -m sslgap.reproduce' + (f' --scale {args.scale}' if args.scale != 'small' else '') + \
      (f' --out {args.out}' if os.path.normpath(args.out) != DEFAULT_OUT else '') + \
      (f' --only {args.only}' if ids else '') + (' --update' if args.update else '')
  if args.update:
    try:  # said before anything runs
      report_lib.kept_of(report, [e.id for e in experiments])
    except ValueError as e:
      command.fail(f'--update: {e}')
  try:
    # the docs' report, whole: every experiment, or some and the others kept as written
    in_docs = os.path.normpath(report) == os.path.normpath(REPORTS[args.scale]) and (not ids or args.update)
    entries = report_lib.generate(experiments, args.scale, args.out, report, command=invocation, found=found,
                                  other_reports={s: p for s, p in REPORTS.items() if os.path.exists(p)}
                                  if in_docs else None, update=args.update)
    if in_docs and os.path.exists('README.md'):
      try:
        findings.refresh_readme(REPORTS)  # README's "What we found" follows the docs' reports
      except ValueError as e:
        print(f'warning: README.md not updated: {e}', file=sys.stderr)
  except stopping.Interrupted as e:
    print(f'error: {e}: the experiment running saved its chunks; rerun the same command to resume', file=sys.stderr)
    sys.exit(128 + e.signum)
  except OSError as e:
    command.fail(f'{getattr(e, "filename", None) or report}: {e.strerror or e}')
  failed = [e.experiment.id for e in entries if e.error]
  print(f'wrote {report} ({len(entries)} experiment(s){", failed: " + ", ".join(failed) if failed else ""})')
  return 1 if failed else 0


if __name__ == '__main__':
  command.run(main)
