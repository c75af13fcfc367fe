"""What a result grid holds, and its figure redrawn from the file alone (nothing is rerun).

  python -m sslgap.show results/fig1_parity/fig1_parity.npz
  python -m sslgap.show FILE.npz --metric train_acc --best lr,b2 --format pdf --out fig.pdf

Prints the axes and their values, the eval steps, the metrics, the best values of the --best
axes per cell of the others (tuned as claims and figures are: sslgap.series), and the diverged and
unfinished runs; then writes the figure the grid's config asks for (--no_figure: only print), never
over the experiment's own <name>.png unless --out names it: --metric M writes <name>.M.png.
"""

import os
import sys
import warnings

import numpy as np

from sslgap.base import command
from sslgap.base import files
from sslgap.science import plotting
from sslgap.science import results as results_lib
from sslgap.science import series as series_lib

MAX_CELLS = 24


def _values(coords):
  values = [results_lib.parse_coord(v) for v in coords]
  text = ', '.join(str(v) if not isinstance(v, float) else f'{v:g}' for v in values[:12])
  return text + (f', ... ({len(values)} values)' if len(values) > 12 else '')


def _value(v):
  return f'{v:g}' if isinstance(v, float) else str(v)


def summary(r, path, metric, best_axes):
  lines = [f'{path}: {r.config.get("name", "?")}, {int(np.prod(r.shape)):,} runs '
           f'({"all finished" if r.finished.all() else f"{int(r.finished.sum()):,} finished"}); '
           f'sslgap {r.info.get("sslgap_version", "?")}, JAX {r.info.get("jax_version", "?")}, '
           f'{r.info.get("device_kind", "?")}', 'axes:']
  lines += [f'  {a} [{len(r.coords[a])}]: {_values(r.coords[a])}' for a in r.axis_names]
  lines.append(f'eval steps [{len(r.eval_steps)}]: {_values(r.eval_steps)}')
  lines.append(f'metrics: {", ".join(sorted(r.metrics))}')
  best_axes = [a for a in best_axes if a in r.axis_names]
  if best_axes:
    lines.append(f'best {", ".join(best_axes)} per cell (the seed-mean {metric} curve best on average over '
                 'training, as claims and figures tune; its final value):')
  else:
    lines.append(f'final {metric} per cell (seed mean):')
  cells = series_lib.best_settings(r, best_axes, metric, plotting.best_for(metric), limit=MAX_CELLS)
  for cell, chosen, final in cells:
    where = ', '.join(f'{a}={_value(v)}' for a, v in cell.items()) or 'all'
    finished = np.asarray(r.sel(**cell).finished if cell else r.finished)
    if not finished.any():  # a partial merge: nothing to say yet, and nothing diverged
      lines.append(f'  {where}: not finished yet')
      continue
    some = f' ({int(finished.sum())} of {finished.size} runs finished)' if not finished.all() else ''
    if not best_axes:
      lines.append(f'  {where}: {final:.4g}{some}' if np.isfinite(final) else f'  {where}: diverged{some}')
      continue
    best = ', '.join(f'{a}={_value(v)}' for a, v in chosen.items()) if np.isfinite(final) else 'none (all diverged)'
    lines.append(f'  {where}: {best} -> {final:.4g}{some}')
  total = int(np.prod([len(r.coords[a]) for a in r.axis_names if a != 'seed' and a not in best_axes]))
  if total > MAX_CELLS:
    lines.append(f'  ... ({total - MAX_CELLS} more cells)')
  diverged = r.diverged()
  lines.append(f'diverged runs: {len(diverged)} of the {int(r.finished.sum()):,} finished' if not r.finished.all()
               else f'diverged runs: {len(diverged)}')
  lines[-1] += f', e.g. {diverged[:3]}' if diverged else ''
  return '\n'.join(lines)


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.show', description=__doc__.splitlines()[0])
  parser.add_argument('file', help='a result grid (.npz) written by an experiment')
  parser.add_argument('--metric', default=None, help='the metric to summarise and plot (default: test_acc or test_loss)')
  parser.add_argument('--best', default='lr', help='comma-separated axes to report the best values of, per cell')
  parser.add_argument('--format', default=None, choices=['png', 'pdf', 'svg'], help='figure format (default png)')
  parser.add_argument('--out', default=None, help='figure path (default: next to the file, <name>.<format>, or '
                      '<name>.<metric>.<format> with --metric; the experiment\'s own <name>.png is never replaced '
                      'unless named here)')
  parser.add_argument('--no_figure', action='store_true', help='only print the summary')
  args = parser.parse_args(argv)
  try:
    with warnings.catch_warnings(record=True) as caught:
      warnings.simplefilter('always')
      r = results_lib.load(args.file)
  except results_lib.ResultsError as e:
    command.fail(str(e))
  for warning in caught:
    print(f'warning: {warning.message}', file=sys.stderr)
  if r.examples is None:  # a grid from before the engine recorded its compute axis: derived from its config
    from sslgap.engine import sweep  # noqa: PLC0415 - JAX is imported only for such a grid
    r = sweep.with_examples(r)
  metric = args.metric or ('test_acc' if 'test_acc' in r.metrics else 'test_loss')
  if metric not in r.metrics and metric not in series_lib.DERIVED:
    command.fail(f'--metric: {args.file} has no metric {metric!r}; it has {", ".join(sorted(r.metrics))}')
  unknown = [a for a in args.best.split(',') if a and a not in r.axis_names]
  if unknown and args.best != 'lr':
    command.fail(f'--best: {args.file} has no axis {unknown[0]!r}; its axes are {", ".join(r.axis_names)}')
  print(summary(r, args.file, metric, [a for a in args.best.split(',') if a]))
  if args.no_figure:
    return 0
  fmt = args.format or (os.path.splitext(args.out)[1][1:] if args.out else 'png')
  if fmt not in ('png', 'pdf', 'svg'):
    command.fail(f'--out: unknown figure format {fmt!r}; use .png, .pdf or .svg (or --format)')
  stem = os.path.splitext(args.file)[0]
  out = args.out or (f'{stem}.{args.metric}.{fmt}' if args.metric else f'{stem}.{fmt}')
  if not args.out and not args.metric and os.path.exists(out):  # the experiment's own figure (any format)
    print(f'kept {out} (the experiment\'s figure); --out FILE draws it anew, --metric M draws {stem}.M.{fmt}')
    return 0
  try:
    plotting.save(plotting.draw(r, metric=args.metric), out)
  except OSError as e:
    command.fail(str(e) if isinstance(e, files.FileError) else f'{out}: cannot write ({e.strerror or e})')
  print(f'wrote {out}')
  return 0


if __name__ == '__main__':
  command.run(main)
