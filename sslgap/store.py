"""A sweep on disk: its plan, one file per finished chunk, leases, and the merge into the .npz grid.

Layout of an output folder:
  <name>.npz, <name>.png      the merged grid and its figure
  chunks/plan.json            config, axes and chunk layouts: every shard and resume agrees on it
  chunks/chunk_000042.npz     the grid positions and metrics of one finished chunk (layout 0)
  chunks/chunk_r1_000007.npz  a chunk of layout 1, made by --replan from the runs still missing
  chunks/layout_1.npz         which runs each chunk of layout 1 holds
  chunks/*.lease              a chunk some process is computing (refreshed while it runs)

Files are created atomically and durably (sslgap.files). plan.json is created once, by the first
process (an atomic exclusive create, so shards that start together agree). A chunk file is
validated before it counts as done: a damaged one is reported by name, set aside and recomputed.
Chunk files carry a hash of the config (without its `engine`, `plot` and `claims` sections,
which do not change results); merging refuses any chunk whose hash differs.
"""

import contextlib
import glob
import json
import logging
import os
import re
import socket
import threading
import time
import zipfile

import numpy as np

from sslgap import chunking
from sslgap import files
from sslgap import results
from sslgap.errors import StoreError

log = logging.getLogger('sslgap')

CHUNK_DIR = 'chunks'
PLAN_FILE = 'plan.json'
RESULT_IRRELEVANT = results.RESULT_IRRELEVANT
PLAN_FORMAT = 2  # format 1 (sslgap before chunk layouts) is refused: its config hash differs too
# A lease not refreshed for this long belongs to a process that is gone (another host's
# process cannot be asked); leases are refreshed every LEASE_REFRESH_S while a chunk runs.
LEASE_STALE_S = float(os.environ.get('SSLGAP_LEASE_STALE_S', 600))
LEASE_REFRESH_S = min(60.0, LEASE_STALE_S / 5)


config_hash = results.config_hash


def chunk_dir(out):
  return os.path.join(out, CHUNK_DIR)


def plan_path(out):
  return os.path.join(chunk_dir(out), PLAN_FILE)


def chunk_name(layout, chunk_id):
  return f'chunk_{chunk_id:06d}' if layout == 0 else f'chunk_r{layout}_{chunk_id:06d}'


def chunk_path(out, chunk_id, layout=0):
  return os.path.join(chunk_dir(out), chunk_name(layout, chunk_id) + '.npz')


def layout_path(out, layout):
  return os.path.join(chunk_dir(out), f'layout_{layout}.npz')


def merged_paths(out, name):
  return os.path.join(out, f'{name}.npz'), os.path.join(out, f'{name}.png')


# --- the plan --------------------------------------------------------------------------------

def layout_record(chunk_size, num_chunks, device, call_width):
  """One way of cutting the runs into chunks, and the runs per kernel call they are computed at;
  device: {'kind', 'platform', 'count'} it was sized for."""
  return {'chunk_size': int(chunk_size), 'num_chunks': int(num_chunks), 'device': dict(device),
          'call_width': int(call_width), 'created': time.time()}


def call_width_of(layout, num_devices):
  """The runs per call a layout's chunks are computed at (a folder from before call widths: the
  chunk, padded to the devices)."""
  return int(layout.get('call_width') or -(-layout['chunk_size'] // num_devices) * num_devices)


def plan_record(name, config_json, axes, eval_steps, layout, info, shards=1, geometry=None, examples_seen=None):
  """geometry: sslgap.chunking.ChunkLayout.geometry(), so any chunk's runs are known from the folder;
  examples_seen: per group, the examples processed by each eval step (the grid's compute axis)."""
  return {
      'format': PLAN_FORMAT,
      'info': info,
      'name': name,
      'config_hash': config_hash(config_json),
      'config_json': config_json,
      'axes': [[axis, [v if not isinstance(v, tuple) else list(v) for v in values]] for axis, values in axes],
      'eval_steps': [int(s) for s in eval_steps],
      'layouts': [layout],
      'shards': int(shards),
      'geometry': geometry,
      'examples_seen': examples_seen,
  }


def read_plan(out):
  """The folder's plan, or None if it has none; StoreError names a damaged plan.json."""
  path = plan_path(out)
  try:
    with open(path) as f:
      record = json.load(f)
  except FileNotFoundError:
    return None
  except (OSError, ValueError) as e:
    raise StoreError(f'{path} is damaged ({e}); --fresh starts the folder over') from None
  if not isinstance(record, dict) or 'config_hash' not in record:
    raise StoreError(f'{path} is not an sslgap plan; --fresh starts the folder over')
  if record.get('format') != PLAN_FORMAT:
    raise StoreError(f'{path} was written by an older sslgap, whose chunks this one cannot continue; '
                     '--fresh starts the folder over')
  return record


def plan_axes(record):
  return [(name, [tuple(v) if isinstance(v, list) else v for v in values]) for name, values in record['axes']]


def open_plan(out, record):
  """Writes the plan if the folder has none; else returns the one there (same config required).

  The first process to create plan.json fixes the chunk layout for every later shard or resume.
  """
  files.ensure_folder(chunk_dir(out))
  if not os.path.exists(plan_path(out)):
    files.write_text(plan_path(out), json.dumps(record), exclusive=True)
  existing = read_plan(out)
  if existing['config_hash'] != record['config_hash']:
    raise StoreError(f'{out} holds chunks of a different config (hash {existing["config_hash"]}, '
                     f'this one {record["config_hash"]}); use another --out, or --fresh to discard them')
  return existing


def add_layout(out, record, layout, group_index, offsets, runs):
  """Appends a layout (from --replan) whose chunk i holds `runs[offsets[i]:offsets[i + 1]]` of group
  group_index[i]; returns the updated record."""
  number = len(record['layouts'])
  results.atomic_savez(layout_path(out, number), group=np.asarray(group_index, np.int64),
                       offsets=np.asarray(offsets, np.int64), runs=np.asarray(runs, np.int64))
  record = dict(record, layouts=record['layouts'] + [layout])
  files.write_text(plan_path(out), json.dumps(record))
  return record


def read_layout(out, number):
  with np.load(layout_path(out, number)) as f:
    return f['group'], f['offsets'], f['runs']


def chunk_layout(out, record, number, geometry=None):
  """The ChunkLayout of layout `number` (which runs each of its chunks holds), or None for a folder
  whose plan has no geometry (sslgap before it was recorded) when none is given."""
  geometry = geometry or record.get('geometry')
  if not geometry:
    return None
  shape = [len(values) for _, values in record['axes']]
  explicit = read_layout(out, number) if number else None
  return chunking.ChunkLayout.from_geometry(shape, geometry, record['layouts'][number]['chunk_size'], explicit)


def plan_stamp(out):
  """Changes when plan.json is rewritten (a replan by another process)."""
  try:
    stat = os.stat(plan_path(out))
  except OSError:
    return None
  return stat.st_mtime_ns, stat.st_size, stat.st_ino


# --- chunk files -----------------------------------------------------------------------------

def write_chunk(out, layout, chunk_id, positions, metrics, hash_, **extra):
  arrays = {f'metric_{k}': v for k, v in metrics.items()}
  results.atomic_savez(chunk_path(out, chunk_id, layout), positions=positions, chunk_id=np.int64(chunk_id),
                       layout=np.int64(layout), config_hash=np.asarray(hash_), finished_at=np.float64(time.time()),
                       **{k: np.asarray(v) for k, v in extra.items()}, **arrays)


_NAME = re.compile(r'chunk_(?:r(\d+)_)?(\d+)\.npz$')


def chunk_files(out):
  """{(layout, chunk id): path} of every chunk file in the folder."""
  found = {}
  for path in glob.glob(os.path.join(chunk_dir(out), 'chunk_*.npz')):
    match = _NAME.search(os.path.basename(path))
    if match:
      found[(int(match.group(1) or 0), int(match.group(2)))] = path
  return found


class DamagedChunk(Exception):
  pass


def read_chunk(path, record, expected=None):
  """{'positions', 'metrics', ...} of a chunk file, checked against the plan (and, given `expected`,
  against the grid positions the plan assigns the chunk); DamagedChunk if not."""
  total = int(np.prod([len(v) for _, v in record['axes']]))
  evals = len(record['eval_steps'])
  try:
    with np.load(path, allow_pickle=False) as f:
      content = {k: f[k] for k in f.files}  # reads (and CRC-checks) every array
  except PermissionError:
    raise StoreError(f'{path}: permission denied (a chunk another user wrote? their umask must let you read it)') \
        from None
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
    raise DamagedChunk(f'unreadable ({e or type(e).__name__})') from None
  for key in ('positions', 'config_hash'):
    if key not in content:
      raise DamagedChunk(f'has no {key!r}')
  if str(content['config_hash']) != record['config_hash']:
    raise DamagedChunk(f'comes from a different config (hash {content["config_hash"]}, plan {record["config_hash"]})')
  positions = content['positions']
  if positions.ndim != 1 or positions.size == 0 or positions.min() < 0 or positions.max() >= total:
    raise DamagedChunk('holds grid positions outside the grid')
  if expected is not None and not np.array_equal(positions, expected):
    raise DamagedChunk(f'holds other runs than the plan gives its chunk ({positions.size} runs from grid position '
                       f'{int(positions[0])}, not {len(expected)} from {int(expected[0])})')
  metrics = {k[len('metric_'):]: v for k, v in content.items() if k.startswith('metric_')}
  if not metrics or any(v.shape != (positions.size, evals) for v in metrics.values()):
    raise DamagedChunk('holds metrics of the wrong shape')
  return dict(content, positions=positions, metrics=metrics)


def set_aside(path, reason):
  """Renames a damaged chunk file so that it is recomputed (and kept for a look)."""
  log.warning('%s is damaged (%s): set aside as %s.damaged; its runs will be computed again',
              path, reason, os.path.basename(path))
  with contextlib.suppress(OSError):
    os.replace(path, path + '.damaged')


class ChunkIndex:
  """The valid chunk files of a folder, validated once each (by name, size and mtime): readable, of
  this config, and holding exactly the runs the plan gives their chunk.

  A damaged file is set aside (renamed *.damaged) so that it is recomputed, unless read_only.
  geometry: the plan's (ChunkLayout.geometry()) where the folder's plan.json predates recording it.
  """

  def __init__(self, out, record, read_only=False, geometry=None):
    self.out, self.record, self.read_only, self.geometry = out, record, read_only, geometry
    self._valid = {}  # path -> (size, mtime)
    self._layouts = {}
    self.damaged = []

  def expected(self, key):
    layout, chunk_id = key
    if layout >= len(self.record['layouts']):
      return None
    if layout not in self._layouts:
      try:
        self._layouts[layout] = chunk_layout(self.out, self.record, layout, self.geometry)
      except (OSError, ValueError, KeyError):
        self._layouts[layout] = None
    chunks = self._layouts[layout]
    if chunks is None:
      return None
    if chunk_id >= chunks.num_chunks:
      return np.asarray([-1])  # a chunk the plan does not have
    return chunks.positions(chunk_id)

  def _ok(self, key, path):
    try:
      stat = os.stat(path)
    except FileNotFoundError:
      return False
    stamp = (stat.st_size, stat.st_mtime_ns)
    if self._valid.get(path) == stamp:
      return True
    try:
      read_chunk(path, self.record, self.expected(key))
    except DamagedChunk as e:
      if 'different config' in str(e):
        raise StoreError(f'{path} {e}; refusing to use it (--fresh discards the folder)') from None
      self.damaged.append(f'{os.path.basename(path)} ({e})')
      if not self.read_only:
        set_aside(path, e)
      return False
    self._valid[path] = stamp
    return True

  def finished(self, layout=None):
    """{(layout, chunk id)} of valid chunk files (of one layout if given)."""
    return {key for key, path in chunk_files(self.out).items()
            if (layout is None or key[0] == layout) and self._ok(key, path)}

  def is_valid(self, layout, chunk_id):
    path = chunk_path(self.out, chunk_id, layout)
    return os.path.exists(path) and self._ok((layout, chunk_id), path)


def merged_finished(out, record):
  """[grid size] bool of the runs the folder's merged grid holds (of this config), or None if it has
  no merged grid of this config. Reads the `finished` mask alone, not the metrics."""
  path = merged_paths(out, record['name'])[0]
  total = int(np.prod([len(v) for _, v in record['axes']]))
  try:
    with np.load(path, allow_pickle=False) as f:
      if 'config_hash' not in f.files or str(f['config_hash']) != record['config_hash']:
        return None
      finished = f['finished'].reshape(-1) if 'finished' in f.files else np.ones(total, bool)
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile):
    return None
  return finished.astype(bool) if finished.size == total else None


def done_runs(out, record, index):
  """[grid size] bool: the runs finished in the folder, in its merged grid or in valid chunk files."""
  total = int(np.prod([len(v) for _, v in record['axes']]))
  done = merged_finished(out, record)
  done = np.zeros(total, bool) if done is None else done.copy()
  paths = chunk_files(out)
  for key in index.finished():
    try:
      with np.load(paths[key], allow_pickle=False) as f:
        done[f['positions']] = True
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
      continue  # changed or removed since it was validated
  return done


def discard(out):
  """Removes every chunk, lease and layout file, the plan, and the merged grid and figure it named."""
  with contextlib.suppress(StoreError):
    record = read_plan(out)
    if record:
      for path in merged_paths(out, record['name']):
        files.remove(path)
  for name in glob.glob(os.path.join(chunk_dir(out), '*')) + glob.glob(os.path.join(chunk_dir(out), '.*.tmp')):
    files.remove(name)


def remove_chunks(out):
  """After a complete merge: the chunk files and leases go, plan.json stays (it says what the folder is)."""
  for path in chunk_files(out).values():
    files.remove(path)
  for pattern in ('*.lease', 'layout_*.npz', '*.damaged'):
    for path in glob.glob(os.path.join(chunk_dir(out), pattern)):
      files.remove(path)
  remove_stale_temporaries(out)


def remove_stale_temporaries(out):
  """Temporary files of writers killed mid-write (a live writer's are far younger than this)."""
  for path in glob.glob(os.path.join(chunk_dir(out), '.*.tmp')) + glob.glob(os.path.join(out, '.*.tmp')):
    with contextlib.suppress(OSError):
      if time.time() - os.path.getmtime(path) > LEASE_STALE_S:
        os.remove(path)


# --- leases ----------------------------------------------------------------------------------

HOST = socket.gethostname()
# A cluster job keeps its id when it is requeued: a lease of this job's earlier incarnation is stale.
JOB = os.environ.get('SLURM_JOB_ID') or os.environ.get('SUBMITIT_LOCAL_JOB_ID') or ''


def lease_path(out, layout, chunk_id):
  return os.path.join(chunk_dir(out), chunk_name(layout, chunk_id) + '.lease')


def _pid_alive(pid):
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def read_lease(path):
  """(owner dict, seconds since its last refresh) or None if there is no lease.

  An owner that cannot be read (being written, or another user's file) is {}: only its age counts."""
  try:
    age = time.time() - os.stat(path).st_mtime
  except FileNotFoundError:
    return None
  try:
    with open(path) as f:
      return json.load(f), age
  except FileNotFoundError:
    return None
  except (OSError, ValueError):
    return {}, age


def lease_is_live(path):
  found = read_lease(path)
  if found is None:
    return False
  owner, age = found
  if owner.get('host') == HOST and isinstance(owner.get('pid'), int) and owner['pid'] != os.getpid():
    if not _pid_alive(owner['pid']) or (JOB and owner.get('job') == JOB):
      return False  # a dead process here, or this job before it was requeued
  return age < LEASE_STALE_S


class Leases:
  """Chunk leases held by this process, refreshed by a background thread while chunks run.

  take() creates a lease atomically. A lease whose owner is gone (a dead process on this host,
  this job before a requeue, or no refresh for LEASE_STALE_S) is taken over: renamed aside first,
  which only one process can do, then created anew. Only the owner removes a lease.
  """

  def __init__(self, out):
    self.out = out
    self.token = f'{HOST}:{os.getpid()}:{time.time_ns()}'
    self._held = set()
    self._lock = threading.Lock()
    self._stop = threading.Event()
    self._thread = threading.Thread(target=self._refresh, daemon=True)
    self._thread.start()

  def _owner(self):
    return json.dumps({'host': HOST, 'pid': os.getpid(), 'job': JOB, 'token': self.token, 'since': time.time()})

  def take(self, layout, chunk_id):
    path = lease_path(self.out, layout, chunk_id)
    if not files.write_text(path, self._owner(), exclusive=True):
      if lease_is_live(path):
        return False
      aside = f'{path}.{self.token.replace(":", "_")}.stale'
      try:
        os.rename(path, aside)  # of several processes taking it over, one renames it
      except FileNotFoundError:
        return False
      if lease_is_live(aside):  # renamed a lease that another process had just taken over: put it back
        with contextlib.suppress(OSError):
          os.link(aside, path)
        files.remove(aside)
        return False
      files.remove(aside)
      if not files.write_text(path, self._owner(), exclusive=True):
        return False
      log.info('took over the abandoned lease of %s', os.path.basename(path))
    with self._lock:
      self._held.add(path)
    return True

  def _remove_if_mine(self, path):
    found = read_lease(path)
    if found and found[0].get('token') == self.token:
      files.remove(path)

  def release(self, layout, chunk_id):
    path = lease_path(self.out, layout, chunk_id)
    with self._lock:
      self._held.discard(path)
    self._remove_if_mine(path)

  def _refresh(self):
    while not self._stop.wait(LEASE_REFRESH_S):
      with self._lock:
        held = list(self._held)
      for path in held:
        with contextlib.suppress(OSError):
          os.utime(path)

  def close(self):
    self._stop.set()
    with self._lock:
      held, self._held = list(self._held), set()
    for path in held:
      self._remove_if_mine(path)


def live_leases(out):
  """Names of the chunks that some live process is computing."""
  return sorted(os.path.basename(p)[:-len('.lease')] for p in glob.glob(os.path.join(chunk_dir(out), '*.lease'))
                if lease_is_live(p))


# --- merging ---------------------------------------------------------------------------------

def gather(out, record, index=None):
  """(metrics {name: [total, E]}, finished [total] bool, chunk facts) from every valid chunk file."""
  index = index or ChunkIndex(out, record)
  total = int(np.prod([len(v) for _, v in record['axes']]))
  evals = len(record['eval_steps'])
  grid, done, facts = {}, np.zeros(total, bool), []
  paths = chunk_files(out)
  for key in sorted(index.finished()):
    try:
      chunk = read_chunk(paths[key], record)
    except (DamagedChunk, KeyError):  # changed or removed since it was validated
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
  path = os.path.join(chunk_dir(out), 'merge.lock')
  owner = json.dumps({'host': HOST, 'pid': os.getpid(), 'job': JOB, 'since': time.time()})
  deadline = time.time() + timeout
  while not files.write_text(path, owner, exclusive=True):
    if not lease_is_live(path):
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
  total = int(np.prod([len(v) for _, v in record['axes']]))
  if not os.path.exists(path):
    return {}, np.zeros(total, bool)
  try:
    grid = results.load(path)
  except results.ResultsError:
    return {}, np.zeros(total, bool)
  if str(grid.info.get('config_hash', '')) != record['config_hash']:
    return {}, np.zeros(total, bool)
  return ({k: v.reshape(total, -1).copy() for k, v in grid.metrics.items()}, grid.finished.reshape(total).copy())


def merge(out, allow_missing=False, keep_chunks=True):
  """Assembles every chunk in `out`, and the grid merged before, into <out>/<name>.npz; returns
  (path, diverged run coordinates).

  Raises StoreError if runs are missing (unless allow_missing: they stay NaN and the `finished`
  mask says which) or a chunk comes from a different config. Without keep_chunks the chunk
  files are removed after a complete merge. Merges of one folder take turns (a lock file).
  """
  record = read_plan(out)
  if record is None:
    raise StoreError(f'{out} has no {CHUNK_DIR}/{PLAN_FILE}: not a sweep folder')
  path = merged_paths(out, record['name'])[0]
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
    if not grid:
      raise StoreError(f'{out} has no finished chunk yet: nothing to merge')
    if not (complete_before and not new_done.any()):
      shape = tuple(len(values) for _, values in record['axes'])
      metrics = {k: v.reshape(shape + (-1,)) for k, v in grid.items()}
      results.save(path, plan_axes(record), record['eval_steps'], metrics, record['config_json'],
                   finished=done.reshape(shape), examples_seen=_examples_grid(record), config_hash=record['config_hash'],
                   **record['info'])
    if done.all() and not keep_chunks:
      remove_chunks(out)
  return path, results.load(path).diverged()


def _examples_grid(record):
  """The grid's compute axis from what the plan recorded of each group (None for older plans)."""
  if not (record.get('geometry') and record.get('examples_seen')):
    return None
  shape = [len(values) for _, values in record['axes']]
  chunks = chunking.ChunkLayout.from_geometry(shape, record['geometry'], 1)
  return chunks.looped_grid(np.asarray(record['examples_seen'], np.float64))


def is_complete(out, record):
  """Whether the folder's merged grid exists, belongs to this config and has every run."""
  path = merged_paths(out, record['name'])[0]
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
