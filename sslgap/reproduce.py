"""Runs the paper's experiments at a scale, checks every claim, and writes the reproduction report.

  python -m sslgap.reproduce                                   # the small presets -> docs/REPRODUCTION.md
  python -m sslgap.reproduce --preset medium                   # -> docs/REPRODUCTION_MEDIUM.md
  python -m sslgap.reproduce --preset paper --only fig6_init,fig2_parity_gd --out results/

Each experiment (sslgap.catalog) runs into <out>/<preset>/<experiment> unless its grid is complete
there (an interrupted one resumes), then its claims are checked on the grid with bootstrap
intervals and the report is written from the grids alone, with each figure copied beside it.
"""


from sslgap import catalog
from sslgap import command

REPORTS = {'small': 'docs/REPRODUCTION.md', 'medium': 'docs/REPRODUCTION_MEDIUM.md', 'paper': 'docs/REPRODUCTION_PAPER.md'}


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.reproduce', description=__doc__.splitlines()[0])
  parser.add_argument('--preset', default='small', choices=catalog.TIERS, help='the scale to run (default small)')
  parser.add_argument('--only', default='', help='comma-separated experiment ids (default: every one with the preset)')
  parser.add_argument('--out', default='results', help='where the grids go: <out>/<preset>/<experiment>')
  parser.add_argument('--report', default=None, help='the markdown file to write (default by preset: '
                      + ', '.join(f'{k}: {v}' for k, v in REPORTS.items()) + ')')
  parser.add_argument('--bootstrap', type=int, default=2000, help='bootstrap resamples per claim')
  args = parser.parse_args(argv)
  ids = [i for i in args.only.split(',') if i]
  try:
    experiments = catalog.for_tier(args.preset, ids)
  except ValueError as e:
    command.fail(f'--only: {e}')
  if not experiments:
    command.fail(f'no experiment has a {args.preset!r} preset' + (f' among {ids}' if ids else ''))
  if args.bootstrap < 100:
    command.fail(f'--bootstrap: use at least 100 resamples, got {args.bootstrap}')
  report = args.report or REPORTS[args.preset]
  invocation = 'python -m sslgap.reproduce' + (f' --preset {args.preset}' if args.preset != 'small' else '') + \
      (f' --only {args.only}' if ids else '')
  from sslgap import report as report_lib
  try:
    entries = report_lib.generate(experiments, args.preset, args.out, report, bootstrap_n=args.bootstrap,
                                  command=invocation)
  except OSError as e:
    command.fail(f'{getattr(e, "filename", None) or report}: {e.strerror or e}')
  failed = [e.experiment.id for e in entries if e.error]
  print(f'wrote {report} ({len(entries)} experiment(s){", failed: " + ", ".join(failed) if failed else ""})')
  return 1 if failed else 0


if __name__ == '__main__':
  command.run(main)
