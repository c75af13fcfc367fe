"""One file per finished chunk: written atomically, validated before it counts as done (a damaged
one is named, set aside and recomputed), indexed by the runs it holds."""

import contextlib
import glob
import logging
import os
import re
import time
import zipfile

import numpy as np

from sslgap.base import files
from sslgap.folder import folder_paths
from sslgap.folder import leases
from sslgap.folder import plan_file
from sslgap.science import results
from sslgap.errors import StoreError

log = logging.getLogger('sslgap')


def write_chunk(out, layout, chunk_id, positions, metrics, hash_, **extra):
  arrays = {f'metric_{k}': v for k, v in metrics.items()}
  results.atomic_savez(folder_paths.chunk_path(out, chunk_id, layout), positions=positions, chunk_id=np.int64(chunk_id),
                       layout=np.int64(layout), config_hash=np.asarray(hash_), finished_at=np.float64(time.time()),
                       **{k: np.asarray(v) for k, v in extra.items()}, **arrays)


_NAME = re.compile(r'chunk_(?:r(\d+)_)?(\d+)\.npz$')


def find(out, suffix='.npz'):
  """{(layout, chunk id): path} of every chunk file in the folder (suffix '.partial.npz': checkpoints)."""
  found = {}
  for path in glob.glob(os.path.join(folder_paths.chunk_dir(out), f'chunk_*{suffix}')):
    match = _NAME.search(os.path.basename(path)[:-len(suffix)] + '.npz')
    if match and path.endswith(suffix):
      found[(int(match.group(1) or 0), int(match.group(2)))] = path
  return found


class DamagedChunk(Exception):
  pass


def read_chunk(path, record, expected=None):
  """{'positions', 'metrics', ...} of a chunk file, checked against the plan (and, given `expected`,
  against the grid positions the plan assigns the chunk); DamagedChunk if not."""
  total = record.total_runs
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


def write_partial(out, layout, chunk_id, positions, hash_, width, calls, leaves, flight, next_interval, seconds=0.0,
                  device=None):
  """A checkpoint of a chunk in flight, written atomically and durably: the metrics of its finished
  calls ([{metric: [runs, E]}]), the state of the call in flight (its leaves, flattened), that call's
  metrics so far ({metric: [width, next_interval + 1]}), the seconds spent computing the chunk so far
  (across resumes: its pace, for the time to finish that status shows), and the numerics it was computed
  under: the call width and the device ({'kind', 'count'}), without which a resume could mix two."""
  device = device or {}
  arrays = {f'state_{i:04d}': np.asarray(leaf) for i, leaf in enumerate(leaves)}
  arrays.update({f'flight_{k}': v for k, v in flight.items()})
  for i, call in enumerate(calls):
    arrays.update({f'call{i:04d}_{k}': v for k, v in call.items()})
  results.atomic_savez(folder_paths.partial_path(out, chunk_id, layout), positions=positions,
                       config_hash=np.asarray(hash_), width=np.int64(width), calls=np.int64(len(calls)),
                       next_interval=np.int64(next_interval), written_at=np.float64(time.time()),
                       seconds=np.float64(seconds), device_kind=np.asarray(str(device.get('kind', '?'))),
                       device_count=np.int64(device.get('count') or 1), **arrays)


def partials(out):
  """{(layout, chunk id): path} of every checkpoint in the folder."""
  return find(out, '.partial.npz')


def _load_partial(path, state=True):
  """A checkpoint's arrays (without the state's, which may weigh gigabytes, unless `state`)."""
  try:
    with np.load(path, allow_pickle=False) as f:
      return {k: f[k] for k in f.files if state or not k.startswith('state_')}
  except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as e:
    raise DamagedChunk(f'unreadable ({e or type(e).__name__})') from None


def partial_summary(path, record, positions):
  """A checkpoint's arrays but its state, checked as the runner checks it (check_partial); DamagedChunk."""
  content = _load_partial(path, state=False)
  check_partial(content, record, positions)
  return content


def partial_curves(path, record, positions=None):
  """(grid positions, {metric: [runs, E]} NaN after each run's last evaluation, evaluations done [runs])
  of a checkpoint: its finished calls whole, the call in flight up to its last segment; DamagedChunk if
  it cannot be read or is not the checkpoint of the chunk whose runs the plan gives as `positions`."""
  content = partial_summary(path, record, positions)
  positions, evals = content['positions'], len(record['eval_steps'])
  calls = [{k[len(f'call{i:04d}_'):]: v for k, v in content.items() if k.startswith(f'call{i:04d}_')}
           for i in range(int(content['calls']))]
  flight = {k[len('flight_'):]: v for k, v in content.items() if k.startswith('flight_')}
  names = sorted(flight)
  done_runs = sum(len(c[names[0]]) for c in calls)
  runs = min(int(content['width']), positions.size - done_runs)
  curves = {}
  for name in names:
    grid = np.full((done_runs + runs, evals), np.nan, np.float32)
    if calls:
      grid[:done_runs] = np.concatenate([c[name] for c in calls])
    grid[done_runs:, :flight[name].shape[1]] = flight[name][:runs]
    curves[name] = grid
  count = np.concatenate([np.full(done_runs, evals), np.full(runs, int(content['next_interval']) + 1)])
  return positions[:done_runs + runs], curves, count.astype(np.int64)


class OtherNumerics(Exception):
  """A whole checkpoint computed under other numerics (call width, device kind or count) than this
  process's: continuing it would make its runs half one, half the other."""


def check_partial(content, record, positions):
  """DamagedChunk unless a checkpoint's content is whole, of this config and of the chunk whose runs the
  plan gives as `positions` (None: any chunk's). The one check of the runner, status and merge."""
  for key in ('positions', 'config_hash', 'width', 'calls', 'next_interval'):
    if key not in content:
      raise DamagedChunk(f'has no {key!r}')
  if str(content['config_hash']) != record['config_hash']:
    raise DamagedChunk(f'comes from a different config (hash {content["config_hash"]}, plan {record["config_hash"]})')
  if positions is not None and not np.array_equal(content['positions'], positions):
    raise DamagedChunk('holds other runs than the plan gives its chunk')


def computed_under(content):
  """(device kind, device count, call width) a checkpoint was computed under ('?' kind: not recorded)."""
  return str(content.get('device_kind', '?')), int(content.get('device_count', 0)), int(content['width'])


def read_partial(path, record, positions, width, leaf_specs, device=None, planned=None):
  """{'calls', 'leaves', 'flight', 'next_interval', 'written_at'} of a checkpoint, checked against the
  plan, the chunk's runs, the call width, the device ({'kind', 'count'}) and the state's leaves
  (leaf_specs: shape and dtype of each); DamagedChunk names what is wrong, OtherNumerics what differs.
  planned: the device the folder's layout was planned on, which a checkpoint written before checkpoints
  recorded their device is taken to have been computed on."""
  content = _load_partial(path)
  check_partial(content, record, positions)
  kind, count, saved_width = computed_under(content)
  if kind == '?' and planned:
    kind, count = str(planned.get('kind', '?')), int(planned.get('count') or 1)
  here = (str(device.get('kind')), int(device.get('count') or 1), width) if device else (kind, count, width)
  if (kind, count, saved_width) != here:
    raise OtherNumerics(f'was computed {_numerics(kind, count, saved_width)}, this process computes '
                        f'{_numerics(*here)}')
  leaves = [content.get(f'state_{i:04d}') for i in range(len(leaf_specs))]
  if any(leaf is None or leaf.shape != tuple(t.shape) or leaf.dtype != t.dtype for leaf, t in zip(leaves, leaf_specs)):
    raise DamagedChunk("holds a state of another shape than this run's")
  evals = len(record['eval_steps'])
  next_interval = int(content['next_interval'])
  flight = {k[len('flight_'):]: v for k, v in content.items() if k.startswith('flight_')}
  if not flight or not 0 < next_interval < evals or any(v.shape != (width, next_interval + 1) for v in flight.values()):
    raise DamagedChunk('holds metrics of the wrong shape')
  calls = [{k[len(f'call{i:04d}_'):]: v for k, v in content.items() if k.startswith(f'call{i:04d}_')}
           for i in range(int(content['calls']))]
  if any(not c or any(v.ndim != 2 or v.shape[1] != evals for v in c.values()) for c in calls):
    raise DamagedChunk('holds a finished call of the wrong shape')
  return {'calls': calls, 'leaves': leaves, 'flight': flight, 'next_interval': next_interval,
          'written_at': float(content.get('written_at', 0.0)), 'seconds': float(content.get('seconds', 0.0))}


def _numerics(kind, count, width):
  devices = 'on a device not recorded' if kind == '?' else f'on {count} x {kind}' if count > 1 else f'on {kind}'
  return f'{width} runs per call {devices}'


def done_fraction(runs, width, calls, next_interval, intervals):
  """The share of a chunk of `runs` runs computed when `calls` calls of `width` are finished and the
  one in flight is at `next_interval` of `intervals`."""
  finished = min(calls * width, runs)
  return (finished + min(width, runs - finished) * next_interval / intervals) / runs


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
    self.unusable = []  # checkpoints of another config or chunk (ChunkIndex.checkpoints)

  def expected(self, key):
    layout, chunk_id = key
    if layout >= len(self.record['layouts']):
      return None
    if layout not in self._layouts:
      try:
        self._layouts[layout] = plan_file.chunk_layout(self.out, self.record, layout, self.geometry)
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

  def checkpoints(self):
    """{(layout, chunk id): path} of the folder's checkpoints that the runner would resume: of this config
    and holding the runs the plan gives their chunk (checked as check_partial does); the others are named
    in self.unusable and never count as progress."""
    usable = {}
    for key, path in sorted(partials(self.out).items()):
      expected = self.expected(key)
      try:
        if expected is None and key[0] >= len(self.record['layouts']):
          raise DamagedChunk(f'is of layout {key[0]}, which the plan does not have')
        partial_summary(path, self.record, expected)
      except DamagedChunk as e:
        if os.path.exists(path):
          self.unusable.append(f'{os.path.basename(path)} ({e})')
        continue
      usable[key] = path
    return usable

  def finished(self, layout=None):
    """{(layout, chunk id)} of valid chunk files (of one layout if given)."""
    return {key for key, path in find(self.out).items()
            if (layout is None or key[0] == layout) and self._ok(key, path)}

  def is_valid(self, layout, chunk_id):
    path = folder_paths.chunk_path(self.out, chunk_id, layout)
    return os.path.exists(path) and self._ok((layout, chunk_id), path)


def merged_finished(out, record):
  """[grid size] bool of the runs the folder's merged grid holds (of this config), or None if it has
  no merged grid of this config. Reads the `finished` mask alone, not the metrics."""
  path = folder_paths.merged_paths(out, record['name'])[0]
  total = record.total_runs
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
  total = record.total_runs
  done = merged_finished(out, record)
  done = np.zeros(total, bool) if done is None else done.copy()
  paths = find(out)
  for key in index.finished():
    try:
      with np.load(paths[key], allow_pickle=False) as f:
        done[f['positions']] = True
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
      continue  # changed or removed since it was validated
  return done


def discard(out, record):
  """Removes every chunk, lease and layout file, the plan, and the merged grid and figure the plan
  `record` named (None: a folder without a readable plan)."""
  if record:
    for path in folder_paths.merged_paths(out, record['name']):
      files.remove(path)
  for name in glob.glob(os.path.join(folder_paths.chunk_dir(out), '*')) + glob.glob(os.path.join(folder_paths.chunk_dir(out), '.*.tmp')):
    files.remove(name)


def remove_chunks(out):
  """After a complete merge: the chunk files and leases go, plan.json stays (it says what the folder is)."""
  for path in find(out).values():
    files.remove(path)
  for pattern in ('*.lease', 'layout_*.npz', '*.damaged', '*.partial.npz'):
    for path in glob.glob(os.path.join(folder_paths.chunk_dir(out), pattern)):
      files.remove(path)
  remove_stale_temporaries(out)


def remove_stale_temporaries(out):
  """Temporary files of writers killed mid-write (sslgap.files.remove_stray_temporaries), said in the log."""
  removed = [p for folder in (folder_paths.chunk_dir(out), out)
             for p in files.remove_stray_temporaries(folder, leases.LEASE_STALE_S)]
  if removed:
    log.info('removed %d temporary file(s) of writers that died mid-write, e.g. %s', len(removed),
             os.path.basename(removed[0]))
