"""Keeps the finished grids of a results tree, without their chunk files: python -m sslgap.keep SRC DEST

Every complete sweep folder under SRC (a merged grid holding all of its runs) is copied to the same
relative path under DEST with only what a report reads: the merged grid and its figure, plan.json
(and the layouts of a replan), and the records beside it that reports read (a reproduction's
wall.json, a design's design.json). Chunk files, checkpoints and leases stay behind, and so does any
folder still running. A report then regenerates from DEST alone, nothing rerun:

  python -m sslgap.keep /scratch/results docs/grids
  python -m sslgap.reproduce --scale design --out docs/grids --report docs/REPRODUCTION_DESIGN.md

This is how a long tier that outlives one machine goes on: keep what finished, start the next machine
from the kept folders (a complete grid of the current config is not recomputed).
"""

import os
import shutil

from sslgap.base import command
from sslgap.folder import Folder
from sslgap import errors

RECORDS = ('wall.json', 'design.json')  # the reports' records beside a grid (sslgap.paper.report, sslgap.design)


def sweep_folders(root):
  """(folder, complete) of every sweep folder under root (itself included), sorted; complete: its merged
  grid holds all of its runs."""
  found = []
  for folder, subfolders, _ in os.walk(root):
    if os.path.basename(folder) == Folder.CHUNK_DIR:
      subfolders[:] = []
      continue
    try:
      record = Folder(folder).plan()
    except errors.StoreError:
      found.append((folder, False))  # a damaged plan.json: not a finished grid
      continue
    if record is None:
      continue
    found.append((folder, Folder(folder).is_complete(record)))
  return sorted(found)


def keep(src, dest):
  """Copies the finished grids under src to dest (see the module's docstring); returns the relative
  paths of the folders kept and of those left behind as not finished."""
  kept, left, records = [], [], set()
  for folder, complete in sweep_folders(src):
    relative = os.path.relpath(folder, src)
    if not complete:
      left.append(relative)
      continue
    for name in Folder(folder).result_files(Folder(folder).plan()):
      _copy(os.path.join(folder, name), os.path.join(dest, relative, name))
    kept.append(relative)
    parent = folder
    while True:  # a record of this grid lies beside it or in a folder above it (a design's)
      records.update(os.path.join(parent, r) for r in RECORDS if os.path.exists(os.path.join(parent, r)))
      if os.path.samefile(parent, src):
        break
      parent = os.path.dirname(parent)
  for path in sorted(records):
    _copy(path, os.path.join(dest, os.path.relpath(path, src)))
  return kept, left


def _copy(path, to):
  os.makedirs(os.path.dirname(to), exist_ok=True)
  shutil.copyfile(path, to + '.tmp')
  os.replace(to + '.tmp', to)


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.keep', description=__doc__.splitlines()[0])
  parser.add_argument('src', help='a results tree (the --out of sslgap.reproduce or sslgap.design)')
  parser.add_argument('dest', help='where the finished grids go (same relative paths)')
  args = parser.parse_args(argv)
  if not os.path.isdir(args.src):
    command.fail(f'{args.src}: no such folder')
  if os.path.abspath(args.dest).startswith(os.path.abspath(args.src) + os.sep):
    command.fail(f'{args.dest}: lies inside {args.src}; keep the grids elsewhere')
  kept, left = keep(args.src, args.dest)
  for relative in kept:
    print(f'kept {relative}')
  for relative in left:
    print(f'left {relative}: not finished (its chunk files stay in {args.src})')
  print(f'{len(kept)} finished grid(s) in {args.dest}; {len(left)} folder(s) not finished')
  return 0


if __name__ == '__main__':
  command.run(main)
