"""A sweep on disk: its plan, one file per finished chunk, and the merge into the .npz grid.

Layout of an output folder:
  <name>.npz, <name>.png      the merged grid and its figure
  chunks/plan.json            config, axes, chunk size: every shard and resume agrees on it
  chunks/chunk_000042.npz     the grid positions and metrics of one finished chunk

Every file is written to a temporary name and renamed, so a crash never leaves half a file.
Chunk files carry a hash of the config (without its `engine` and `plot` sections, which do
not change results); merging refuses any chunk whose hash differs.
"""

import glob
import hashlib
import json
import os
import tempfile

import numpy as np

from sslgap import results

CHUNK_DIR = 'chunks'
PLAN_FILE = 'plan.json'
RESULT_IRRELEVANT = ('engine', 'plot')


class StoreError(RuntimeError):
  pass


def config_hash(config_json):
  config = json.loads(config_json)
  relevant = {k: v for k, v in config.items() if k not in RESULT_IRRELEVANT}
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def chunk_dir(out):
  return os.path.join(out, CHUNK_DIR)


def chunk_path(out, chunk_id):
  return os.path.join(chunk_dir(out), f'chunk_{chunk_id:06d}.npz')


def _atomic_write_text(path, text):
  fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix='.tmp')
  with os.fdopen(fd, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def plan_record(name, config_json, axes, eval_steps, chunk_size, num_chunks, info):
  return {
      'info': info,
      'name': name,
      'config_hash': config_hash(config_json),
      'config_json': config_json,
      'axes': [[axis, [v if not isinstance(v, tuple) else list(v) for v in values]] for axis, values in axes],
      'eval_steps': [int(s) for s in eval_steps],
      'chunk_size': int(chunk_size),
      'num_chunks': int(num_chunks),
  }


def read_plan(out):
  path = os.path.join(chunk_dir(out), PLAN_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


def open_plan(out, record):
  """Writes the plan if the folder has none; else returns the one there (same config required).

  The first process to create plan.json fixes the chunk size for every later shard or resume.
  """
  os.makedirs(chunk_dir(out), exist_ok=True)
  path = os.path.join(chunk_dir(out), PLAN_FILE)
  try:
    with open(path, 'x') as f:
      json.dump(record, f)
    return record
  except FileExistsError:
    existing = read_plan(out)
  if existing['config_hash'] != record['config_hash']:
    raise StoreError(f'{out} holds chunks of a different config (hash {existing["config_hash"]}, '
                     f'this one {record["config_hash"]}); use another --out, or --fresh to discard them')
  return existing


def write_chunk(out, chunk_id, positions, metrics, hash_):
  arrays = {f'metric_{k}': v for k, v in metrics.items()}
  results.atomic_savez(chunk_path(out, chunk_id), positions=positions, chunk_id=np.int64(chunk_id),
                       config_hash=np.asarray(hash_), **arrays)


def finished_chunks(out):
  """Ids of the chunk files present."""
  names = glob.glob(os.path.join(chunk_dir(out), 'chunk_*.npz'))
  return {int(os.path.basename(n)[len('chunk_'):-len('.npz')]) for n in names}


def discard(out):
  for name in glob.glob(os.path.join(chunk_dir(out), '*')):
    os.remove(name)


def merge(out):
  """Assembles every chunk in `out` into <out>/<name>.npz; returns (path, diverged run coordinates).

  Raises StoreError if runs are missing or a chunk comes from a different config.
  """
  plan = read_plan(out)
  if plan is None:
    raise StoreError(f'{out} has no {CHUNK_DIR}/{PLAN_FILE}: not a sweep folder')
  axes = [(name, [tuple(v) if isinstance(v, list) else v for v in values]) for name, values in plan['axes']]
  shape = tuple(len(values) for _, values in axes)
  total = int(np.prod(shape))
  grid, done = {}, np.zeros(total, bool)
  for chunk_id in sorted(finished_chunks(out)):
    path = chunk_path(out, chunk_id)
    with np.load(path) as f:
      if str(f['config_hash']) != plan['config_hash']:
        raise StoreError(f'{path} comes from a different config (hash {f["config_hash"]}, '
                         f'plan {plan["config_hash"]}); refusing to merge it')
      positions = f['positions']
      for key in f.files:
        if key.startswith('metric_'):
          name = key[len('metric_'):]
          if name not in grid:
            grid[name] = np.full((total, len(plan['eval_steps'])), np.nan, np.float32)
          grid[name][positions] = f[key]
      done[positions] = True
  if not done.all():
    missing = int((~done).sum())
    raise StoreError(f'{missing:,} of {total:,} runs have no finished chunk in {out}; '
                     'run the remaining shards (or rerun the command) first')
  metrics = {k: v.reshape(shape + (-1,)) for k, v in grid.items()}
  path = os.path.join(out, f'{plan["name"]}.npz')
  results.save(path, axes, plan['eval_steps'], metrics, plan['config_json'], **plan['info'])
  return path, results.load(path).diverged()


def diverged_runs(metrics):
  """Runs whose final test loss is not finite."""
  final = metrics['test_loss'][..., -1]
  return int(np.sum(~np.isfinite(final)))
