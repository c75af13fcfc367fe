"""chunks/plan.json: the config, axes and chunk layouts that every shard and resume agrees on,
created once by the first process (an atomic exclusive create, so shards that start together agree)."""

import json
import os
import time

import numpy as np

from sslgap.folder import chunking
from sslgap.base import files
from sslgap.folder import folder_paths
from sslgap.science import results
from sslgap.errors import StoreError


PLAN_FORMAT = 2  # format 1 (sslgap before chunk layouts) is refused: its config hash differs too


class PlanRecord(dict):
  """plan.json as read: the dict itself (so it is written back exactly as read) with named views of it,
  so that no reader repeats how the runs or the active layout follow from it."""

  name = property(lambda self: self['name'])
  config_hash = property(lambda self: self['config_hash'])
  config_json = property(lambda self: self['config_json'])
  eval_steps = property(lambda self: self['eval_steps'])
  layouts = property(lambda self: self['layouts'])
  number = property(lambda self: len(self['layouts']) - 1, doc='the active layout (the last, after replans)')
  active = property(lambda self: self['layouts'][-1], doc="the active layout's record")
  shards = property(lambda self: self.get('shards') or 1)
  shape = property(lambda self: tuple(len(values) for _, values in self['axes']))
  total_runs = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
  intervals = property(lambda self: len(self['eval_steps']) - 1, doc='evaluations after the first')

  @property
  def axes(self):
    """[(name, values)], tuple values as tuples again (JSON keeps lists)."""
    return [(name, [tuple(v) if isinstance(v, list) else v for v in values]) for name, values in self['axes']]

  def call_width(self, num_devices, number=-1):
    """The runs per kernel call layout `number`'s chunks are computed at."""
    return call_width_of(self['layouts'][number], num_devices)


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
  return PlanRecord({
      'format': PLAN_FORMAT,
      'info': info,
      'name': name,
      'config_hash': results.config_hash(config_json),
      'config_json': config_json,
      'axes': [[axis, [v if not isinstance(v, tuple) else list(v) for v in values]] for axis, values in axes],
      'eval_steps': [int(s) for s in eval_steps],
      'layouts': [layout],
      'shards': int(shards),
      'geometry': geometry,
      'examples_seen': examples_seen,
  })


def read_plan(out):
  """The folder's plan, or None if it has none; StoreError names a damaged plan.json."""
  path = folder_paths.plan_path(out)
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
  return PlanRecord(record)


def open_plan(out, record):
  """Writes the plan if the folder has none; else returns the one there (same config required).

  The first process to create plan.json fixes the chunk layout for every later shard or resume.
  """
  files.ensure_folder(folder_paths.chunk_dir(out))
  if not os.path.exists(folder_paths.plan_path(out)):
    files.write_text(folder_paths.plan_path(out), json.dumps(record), exclusive=True)
  existing = read_plan(out)
  if existing['config_hash'] != record['config_hash']:
    changed = differences(existing.get('config_json', '{}'), record['config_json'])
    raise StoreError(f'{out} holds chunks of a different config ({"; ".join(changed) or "hash " + existing["config_hash"]}'
                     '); use another folder (--out, or out= in sslgap.run), or discard them (--fresh, fresh=True)')
  return existing


def differences(old_json, new_json, most=4):
  """'key: old -> new' for the keys (dotted) whose values differ between two configs, besides those
  that change no result (results.RESULT_IRRELEVANT); the first `most`, then how many more."""
  def flat(node, prefix=''):
    if not isinstance(node, dict):
      return {prefix[:-1]: node}
    return {k: v for key, value in node.items() if not (not prefix and key in results.RESULT_IRRELEVANT)
            for k, v in flat(value, f'{prefix}{key}.').items()}
  old, new = flat(json.loads(old_json)), flat(json.loads(new_json))
  missing = object()
  keys = [k for k in sorted(set(old) | set(new)) if old.get(k, missing) != new.get(k, missing)]
  shown = lambda d, k: json.dumps(d[k]) if k in d else '(none)'
  out = [f'{k}: {shown(old, k)} -> {shown(new, k)}' for k in keys[:most]]
  return out + ([f'{len(keys) - most} more'] if len(keys) > most else [])


def add_layout(out, record, layout, group_index, offsets, runs):
  """Appends a layout (from --replan) whose chunk i holds `runs[offsets[i]:offsets[i + 1]]` of group
  group_index[i]; returns the updated record."""
  number = len(record['layouts'])
  results.atomic_savez(folder_paths.layout_path(out, number), group=np.asarray(group_index, np.int64),
                       offsets=np.asarray(offsets, np.int64), runs=np.asarray(runs, np.int64))
  record = PlanRecord(record, layouts=record['layouts'] + [layout])
  files.write_text(folder_paths.plan_path(out), json.dumps(record))
  return record


def read_layout(out, number):
  with np.load(folder_paths.layout_path(out, number)) as f:
    return f['group'], f['offsets'], f['runs']


def chunk_layout(out, record, number, geometry=None):
  """The ChunkLayout of layout `number` (which runs each of its chunks holds), or None for a folder
  whose plan has no geometry (sslgap before it was recorded) when none is given."""
  geometry = geometry or record.get('geometry')
  if not geometry:
    return None
  shape = list(PlanRecord(record).shape)
  explicit = read_layout(out, number) if number else None
  return chunking.ChunkLayout.from_geometry(shape, geometry, record['layouts'][number]['chunk_size'], explicit)


def plan_stamp(out):
  """Changes when plan.json is rewritten (a replan by another process)."""
  try:
    stat = os.stat(folder_paths.plan_path(out))
  except OSError:
    return None
  return stat.st_mtime_ns, stat.st_size, stat.st_ino
