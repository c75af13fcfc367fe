"""The merge of a folder's chunk files into its .npz grid: one merge at a time, never a smaller grid."""

import contextlib
import json
import os
import time
import zipfile

import numpy as np

from sslgap.folder import chunk_files
from sslgap.folder import chunking
from sslgap.base import files
from sslgap.folder import folder_paths
from sslgap.folder import leases
from sslgap.science import results
from sslgap.errors import StoreError


def gather(out, record, index=None):
  """(metrics {name: [total, E]}, finished [total] bool, chunk facts) from every valid chunk file."""
  index = index or chunk_files.ChunkIndex(out, record)
  total = record.total_runs
  evals = len(record['eval_steps'])
  grid, done, facts = {}, np.zeros(total, bool), []
  paths = chunk_files.find(out)
  for key in sorted(index.finished()):
    try:
      chunk = chunk_files.read_chunk(paths[key], record)
    except (chunk_files.DamagedChunk, KeyError):  # changed or removed since it was validated
      continue
    positions = chunk['positions']
    for name, value in chunk['metrics'].items():
      if name not in grid:
        grid[name] = np.full((total, evals), np.nan, np.float32)
      grid[name][positions] = value
    done[positions] = True
    facts.append({'key': key, 'runs': int(positions.size),
                  'finished_at': float(chunk['finished_at']) if 'finished_at' in chunk else float('nan'),
                  'seconds': float(chunk['seconds']) if 'seconds' in chunk else float('nan'),
                  'shard': str(chunk['shard']) if 'shard' in chunk else '',
                  'diverged': diverged_runs(chunk['metrics'])})
  return grid, done, facts


@contextlib.contextmanager
def _merge_lock(out, timeout=600.0):
  """Holds chunks/merge.lock: two processes that finish the last chunks together merge in turn."""
  path = os.path.join(folder_paths.chunk_dir(out), 'merge.lock')
  owner = json.dumps({'host': leases.HOST, 'pid': os.getpid(), 'job': leases.JOB, 'since': time.time()})
  deadline = time.time() + timeout
  while not files.write_text(path, owner, exclusive=True):
    if not leases.lease_is_live(path):
      files.remove(path)  # its holder died
      continue
    if time.time() > deadline:
      raise StoreError(f'{path} has been held by another process for {timeout:.0f} s; remove it if none is merging')
    time.sleep(0.2)
  try:
    yield
  finally:
    files.remove(path)


def _grid_so_far(path, record):
  """(metrics {name: [total, E]}, finished [total]) of a merged grid of this config, else empty."""
  total = record.total_runs
  if not os.path.exists(path):
    return {}, np.zeros(total, bool)
  try:
    grid = results.load(path)
  except results.ResultsError:
    return {}, np.zeros(total, bool)
  if str(grid.info.get('config_hash', '')) != record['config_hash']:
    return {}, np.zeros(total, bool)
  return ({k: v.reshape(total, -1).copy() for k, v in grid.metrics.items()}, grid.finished.reshape(total).copy())


def merge(out, record, allow_missing=False, keep_chunks=True):
  """Assembles every chunk in `out` (whose plan is `record`), and the grid merged before, into
  <out>/<name>.npz; returns (path, diverged run coordinates).

  Raises StoreError if runs are missing (unless allow_missing: they stay NaN and the `finished`
  mask says which) or a chunk comes from a different config. Without keep_chunks the chunk
  files are removed after a complete merge. Merges of one folder take turns (a lock file).
  """
  path = folder_paths.merged_paths(out, record['name'])[0]
  chunk_files.remove_stale_temporaries(out)
  with _merge_lock(out):
    grid, done = _grid_so_far(path, record)
    new, new_done, _ = gather(out, record)
    for name, values in new.items():
      if name not in grid:
        grid[name] = np.full_like(values, np.nan)
      grid[name][new_done] = values[new_done]
    complete_before = done.all()
    done |= new_done
    if not done.all() and not allow_missing:
      raise StoreError(f'{int((~done).sum()):,} of {done.size:,} runs have no finished chunk in {out}; '
                       'run the remaining shards (or rerun the command) first, or merge with --allow_missing')
    evaluations, index = {}, chunk_files.ChunkIndex(out, record, read_only=True)
    if allow_missing and not done.all():
      grid, evaluations = _with_partial_curves(index, record, grid, done)
    if not grid:
      unusable = f'; its checkpoint(s) cannot be used: {", ".join(index.unusable)}' if index.unusable else ''
      raise StoreError(f'{out} has no finished chunk yet{" and no usable checkpoint" if allow_missing else ""}: '
                       f'nothing to merge{unusable}')
    if not (complete_before and not new_done.any()) or evaluations:
      shape = tuple(len(values) for _, values in record['axes'])
      metrics = {k: v.reshape(shape + (-1,)) for k, v in grid.items()}
      results.save(path, record.axes, record['eval_steps'], metrics, record['config_json'],
                   finished=done.reshape(shape), examples_seen=_examples_grid(record), config_hash=record['config_hash'],
                   **evaluations, **record['info'])
    if done.all() and not keep_chunks:
      chunk_files.remove_chunks(out)
  return path, results.load(path).diverged()


def _with_partial_curves(index, record, grid, done):
  """The grid with the runs no chunk file holds taken from their chunks' usable checkpoints (those the
  runner would resume: index.checkpoints()), up to their last evaluation (NaN after, and NaN where no
  checkpoint has them either), and {'evaluations_done': [*axes] int} (len(eval_steps) for a finished run)."""
  total, evals = done.size, len(record['eval_steps'])
  count = np.where(done, evals, 0).astype(np.int64)
  grid = {k: np.where(done[:, None], v, np.nan).astype(np.float32) for k, v in grid.items()}
  for path in index.checkpoints().values():
    try:
      positions, curves, runs_done = chunk_files.partial_curves(path, record)
    except (chunk_files.DamagedChunk, KeyError, ValueError):
      continue  # changed or removed since it was checked
    keep = ~done[positions]
    for name, values in curves.items():
      if name not in grid:
        grid[name] = np.full((total, evals), np.nan, np.float32)
      grid[name][positions[keep]] = values[keep]
    count[positions[keep]] = runs_done[keep]
  shape = tuple(len(values) for _, values in record['axes'])
  return grid, {'evaluations_done': count.reshape(shape)}


def _examples_grid(record):
  """The grid's compute axis from what the plan recorded of each group (None for older plans)."""
  if not (record.get('geometry') and record.get('examples_seen')):
    return None
  shape = [len(values) for _, values in record['axes']]
  chunks = chunking.ChunkLayout.from_geometry(shape, record['geometry'], 1)
  return chunks.looped_grid(np.asarray(record['examples_seen'], np.float64))


def is_complete(out, record):
  """Whether the folder's merged grid exists, belongs to this config and has every run."""
  path = folder_paths.merged_paths(out, record['name'])[0]
  if not os.path.exists(path):
    return False
  try:
    with np.load(path, allow_pickle=False) as f:
      return ('config_hash' in f.files and str(f['config_hash']) == record['config_hash']
              and 'finished' in f.files and bool(np.all(f['finished'])))
  except (OSError, ValueError, EOFError, zipfile.BadZipFile):
    return False


def diverged_runs(metrics):
  """Runs whose final test loss is not finite."""
  final = metrics['test_loss'][..., -1]
  return int(np.sum(~np.isfinite(final)))
