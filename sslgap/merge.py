"""Assembles a sweep folder's chunk files into its .npz grid.

  python -m sslgap.merge DIR                   # every run must be finished
  python -m sslgap.merge DIR --allow_missing   # a partial grid: NaN where a run is missing, and a
                                               # `finished` mask (results.load(path).finished)
"""

import os

from sslgap.base import command
from sslgap.base import files
from sslgap.science import results
from sslgap.folder import Folder
from sslgap import errors


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.merge', description=__doc__.splitlines()[0])
  parser.add_argument('folder', help='the sweep folder (the --out of the experiment)')
  parser.add_argument('--allow_missing', action='store_true', help='write a partial grid')
  parser.add_argument('--keep_chunks', action='store_true', help='keep the chunk files after a complete merge')
  args = parser.parse_args(argv)
  if not os.path.isdir(args.folder):
    command.fail(f'{args.folder}: no such folder')
  try:
    path, diverged = Folder(args.folder).merge(allow_missing=args.allow_missing, keep_chunks=args.keep_chunks)
  except (errors.StoreError, files.FileError) as e:
    command.fail(f'merge failed: {e}')
  finished = results.load(path).finished
  partial = '' if finished.all() else f'; {int(finished.sum()):,} of {finished.size:,} runs finished, the rest NaN'
  print(f'wrote {path} ({len(diverged)} diverged run(s){": " if diverged else ""}'
        f'{", ".join(map(str, diverged[:5]))}{" ..." if len(diverged) > 5 else ""}{partial})')
  return 0


if __name__ == '__main__':
  command.run(main)
