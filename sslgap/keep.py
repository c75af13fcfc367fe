"""Keeps the finished grids of a results tree, without their chunk files: python -m sslgap.keep SRC DEST

Every complete sweep folder under SRC (a merged grid holding all of its runs) is copied to the same
relative path under DEST with only what a report reads: the merged grid and its figure, plan.json
(and the layouts of a replan), and the records beside it that reports read (a reproduction's
wall.json, a design's design.json). Chunk files, checkpoints and leases stay behind, and so does any
folder still running. A report then regenerates from DEST alone, nothing rerun:

  python -m sslgap.keep /scratch/results docs/grids
  python -m sslgap.reproduce --scale design --out docs/grids --report docs/REPRODUCTION_DESIGN.md

This is how a long tier that outlives one machine goes on: keep what finished, and start the next
machine's runs on a copy of the kept tree (`sslgap.reproduce --out COPY`, `sslgap.design --out
COPY/designs`): a finished grid of the current config is not recomputed; a folder that had not
finished starts over, unless `--unfinished` kept its plan and finished chunk files (not its
checkpoints): then it resumes from those chunks. A destination folder holding another config's grid
is not overwritten.
"""

import os
import shutil

from sslgap.base import command
from sslgap.base import files
from sslgap.folder import Folder
from sslgap import errors

RECORDS = ('wall.json', 'design.json')  # the reports' records beside a grid (sslgap.paper.report, sslgap.design)


def sweep_folders(root):
  """(folder, its PlanRecord or the StoreError of a damaged plan.json) of every sweep folder under root
  (itself included), sorted by folder."""
  found = []
  for folder, subfolders, _ in os.walk(root):
    record = _plan(folder)
    if record is None:
      continue
    found.append((folder, record))
    subfolders[:] = [f for f in subfolders if f != Folder.CHUNK_DIR]  # a sweep's own files, not a sweep
  return sorted(found, key=lambda f: f[0])


def keep(src, dest, unfinished=False):
  """Copies the finished grids under src to dest (see the module's docstring), and with unfinished=True
  the finished chunk files of the folders still running; returns (relative paths kept, [(relative path,
  why it was left)]); an unfinished folder kept is listed as 'PATH (unfinished: N chunk files)'."""
  kept, left, records = [], [], set()
  for folder, record in sweep_folders(src):
    relative = os.path.relpath(folder, src)
    if isinstance(record, errors.StoreError):
      left.append((relative, f'a damaged plan ({record})'))
      continue
    complete = Folder(folder).is_complete(record)
    if not complete and not unfinished:
      left.append((relative, f'not finished (its chunk files stay in {src}; from the kept tree it would start over; '
                             '--unfinished keeps them)'))
      continue
    kept_folder = Folder(os.path.join(dest, relative))
    there = _plan(kept_folder.out)
    if (there is not None and not isinstance(there, errors.StoreError) and there.config_hash != record.config_hash
        and os.path.exists(kept_folder.merged_path(there))):  # a kept unfinished one is only chunks: replaced
      left.append((relative, f'{os.path.join(dest, relative)} holds the grid of another config: remove it to keep this one'))
      continue
    chunks = [] if complete else Folder(folder).finished_chunk_files()
    for stale in set(kept_folder.finished_chunk_files()) - set(chunks):  # kept while it ran, or of another plan
      os.remove(os.path.join(kept_folder.out, stale))
    if complete:
      names = Folder(folder).result_files(record)
      kept.append(relative)
    else:
      names = [n for n in Folder(folder).result_files(record) if n.startswith(Folder.CHUNK_DIR + os.sep)]
      kept.append(f'{relative} (unfinished: {len(chunks)} chunk file(s))')
    for name in names:
      _copy(os.path.join(folder, name), os.path.join(dest, relative, name))
    for name in chunks:
      try:
        _copy(os.path.join(folder, name), os.path.join(dest, relative, name))
      except FileNotFoundError:  # the running sweep merged it meanwhile: its grid is kept next time
        pass
    parent = folder
    while True:  # a record of this grid lies beside it or in a folder above it (a design's)
      records.update(os.path.join(parent, r) for r in RECORDS if os.path.exists(os.path.join(parent, r)))
      if os.path.samefile(parent, src):
        break
      parent = os.path.dirname(parent)
  for path in sorted(records):
    _copy(path, os.path.join(dest, os.path.relpath(path, src)))
  return kept, left


def _plan(folder):
  """The folder's PlanRecord, the StoreError of a damaged plan.json, or None without one."""
  try:
    return Folder(folder).plan()
  except errors.StoreError as e:
    return e


def _copy(path, to):
  files.ensure_folder(os.path.dirname(to))
  with open(path, 'rb') as source:
    files.atomic_write(to, lambda f: shutil.copyfileobj(source, f))


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.keep', description=__doc__.splitlines()[0])
  parser.add_argument('src', help='a results tree (the --out of sslgap.reproduce or sslgap.design)')
  parser.add_argument('dest', help='where the finished grids go (same relative paths)')
  parser.add_argument('--unfinished', action='store_true',
                      help='also keep the plan and finished chunk files of folders still running (no checkpoints), '
                           'so that a run on another machine resumes from them')
  args = parser.parse_args(argv)
  if not os.path.isdir(args.src):
    command.fail(f'{args.src}: ' + ('not a folder' if os.path.exists(args.src) else 'no such folder'))
  src, dest = os.path.realpath(args.src), os.path.realpath(args.dest)
  if dest == src or dest.startswith(src + os.sep) or src.startswith(dest + os.sep):
    command.fail(f'{args.dest}: is {args.src} or lies inside it or around it; keep the grids elsewhere')
  try:
    kept, left = keep(args.src, args.dest, unfinished=args.unfinished)
  except files.FileError as e:
    command.fail(f'keep failed: {e}')
  for relative in kept:
    print(f'kept {relative}')
  for relative, why in left:
    print(f'left {relative}: {why}')
  running = sum('(unfinished' in k for k in kept)
  print(f'{len(kept) - running} finished grid(s)' + (f' and {running} unfinished folder(s)' if args.unfinished else '')
        + f' in {args.dest}; {len(left)} folder(s) left')
  return 0


if __name__ == '__main__':
  command.run(main)
