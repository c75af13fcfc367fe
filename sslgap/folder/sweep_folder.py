"""One output folder as one object: its plan record, which runs are done, the leases, the chunk files
and checkpoints, the merge. The runner, status, merge, report, design and launcher ask a Folder; the
modules beside this one are its parts, and nothing outside this wing reads plan.json or a chunk file.
"""

import contextlib
import logging
import os
import zipfile

import numpy as np

from sslgap.base import files
from sslgap.folder import chunk_files
from sslgap.folder import folder_paths
from sslgap.folder import leases
from sslgap.folder import merging
from sslgap.folder import plan_file
from sslgap.errors import StoreError

log = logging.getLogger('sslgap')

DamagedChunk = chunk_files.DamagedChunk  # a chunk file or checkpoint that cannot be used (set aside)
OtherNumerics = chunk_files.OtherNumerics  # a checkpoint computed under other numerics than this process's
PlanRecord = plan_file.PlanRecord
plan_record = plan_file.plan_record
layout_record = plan_file.layout_record
HOST = leases.HOST


class Folder:
  """The folder `out` of one sweep (it need not exist yet)."""

  LEASE_STALE_S = leases.LEASE_STALE_S  # a lease unchanged this long is its dead holder's
  CHUNK_DIR = folder_paths.CHUNK_DIR  # the folder's own files (plan, chunks, leases) lie in this subfolder

  def __init__(self, out):
    self.out = out

  def __repr__(self):
    return f'Folder({self.out!r})'

  # --- the plan ----------------------------------------------------------------------------------

  def plan(self):
    """The folder's PlanRecord, or None if it has none (StoreError names a damaged plan.json)."""
    return plan_file.read_plan(self.out)

  def require_plan(self, started=' (or not started)'):
    """The folder's PlanRecord; StoreError when it is not a sweep folder."""
    record = self.plan()
    if record is None:
      raise StoreError(f'{self.out} has no {folder_paths.CHUNK_DIR}/{folder_paths.PLAN_FILE}: not a sweep folder{started}')
    return record

  def open_plan(self, record):
    """Writes `record` as the plan if the folder has none, else returns the one there (same config)."""
    return plan_file.open_plan(self.out, record)

  def add_layout(self, record, layout, group_index, offsets, runs):
    """The record with a new active layout (a replan's) holding the given runs."""
    return plan_file.add_layout(self.out, record, layout, group_index, offsets, runs)

  def read_layout(self, number):
    return plan_file.read_layout(self.out, number)

  def chunk_layout(self, record, number=None):
    """The ChunkLayout of layout `number` (the active one by default), None where the plan has no geometry."""
    return plan_file.chunk_layout(self.out, record, record.number if number is None else number)

  def plan_stamp(self):
    """Changes when plan.json is rewritten (another process started the folder over or replanned)."""
    return plan_file.plan_stamp(self.out)

  # --- which runs are done -----------------------------------------------------------------------

  def merged_path(self, record):
    return folder_paths.merged_paths(self.out, record.name)[0]

  def is_complete(self, record):
    """Whether the merged grid exists, belongs to this config and has every run."""
    return merging.is_complete(self.out, record)

  def result_files(self, record):
    """The files a report reads of a complete folder (its merged grid and figure, plan.json and the
    layouts of any replan), relative to the folder: what is kept of it when its chunk files go."""
    merged = [os.path.basename(p) for p in folder_paths.merged_paths(self.out, record.name)]
    plan = [os.path.join(folder_paths.CHUNK_DIR, folder_paths.PLAN_FILE)]
    layouts = [os.path.relpath(folder_paths.layout_path(self.out, n), self.out) for n in range(1, record.number + 1)]
    return [f for f in merged + plan + layouts if os.path.exists(os.path.join(self.out, f))]

  def finished_chunk_files(self):
    """The folder's finished chunk files (no checkpoints), relative to the folder: what is kept of an
    unfinished folder beside its plan, so that another machine resumes from them."""
    return sorted(os.path.relpath(p, self.out) for p in chunk_files.find(self.out).values()
                  if not p.endswith('.partial.npz'))

  def index(self, record, geometry=None, read_only=False):
    """The folder's valid chunk files and checkpoints (chunk_files.ChunkIndex)."""
    return chunk_files.ChunkIndex(self.out, record, read_only=read_only, geometry=geometry)

  def merged_finished(self, record):
    """The merged grid's `finished` mask (flat), None without a merged grid of this config."""
    return chunk_files.merged_finished(self.out, record)

  def done_runs(self, record, index):
    """A flat mask of the runs a valid chunk file or the merged grid holds."""
    return chunk_files.done_runs(self.out, record, index)

  def gather(self, record, index=None):
    return merging.gather(self.out, record, index)

  # --- chunks and checkpoints --------------------------------------------------------------------

  def write_chunk(self, number, chunk_id, positions, metrics, config_hash, **extra):
    chunk_files.write_chunk(self.out, number, chunk_id, positions, metrics, config_hash, **extra)

  def checkpoint_path(self, chunk_id, number):
    return folder_paths.partial_path(self.out, chunk_id, number)

  def has_checkpoint(self, chunk_id, number):
    return os.path.exists(self.checkpoint_path(chunk_id, number))

  def write_checkpoint(self, number, chunk_id, *args, **kwargs):
    """chunk_files.write_partial into this folder."""
    chunk_files.write_partial(self.out, number, chunk_id, *args, **kwargs)

  def read_checkpoint(self, chunk_id, number, record, positions, width, leaf_specs, device):
    """A chunk's checkpoint for resuming it (chunk_files.read_partial), None when it has none; a damaged
    one is set aside and one computed under other numerics removed (said, then None: the chunk starts
    over, so that one run never mixes two numerics)."""
    path = self.checkpoint_path(chunk_id, number)
    if not os.path.exists(path):
      return None
    try:
      return chunk_files.read_partial(path, record, positions, width, leaf_specs, device=device,
                                      planned=record.layouts[number]['device'])
    except DamagedChunk as e:
      chunk_files.set_aside(path, e)
    except OtherNumerics as e:
      log.warning('chunk %d\'s checkpoint %s: its numbers would differ in the last bits, so the chunk starts over '
                  'from step 0 (its checkpoint is removed)', chunk_id, e)
      files.remove(path)
    return None

  def remove_checkpoint(self, chunk_id, number):
    files.remove(self.checkpoint_path(chunk_id, number))

  def checkpoint_facts(self, path):
    """{'interval', 'written_at', 'width', 'runs', 'calls', 'seconds'} of a checkpoint, without its state
    (None if it cannot be read now: removed or rewritten since it was listed)."""
    try:
      with np.load(path, allow_pickle=False) as f:
        return {'interval': int(f['next_interval']), 'written_at': float(f['written_at']), 'width': int(f['width']),
                'runs': int(f['positions'].size), 'calls': int(f['calls']),
                'seconds': float(f['seconds']) if 'seconds' in f.files else 0.0}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
      return None

  done_fraction = staticmethod(chunk_files.done_fraction)

  def drop_checkpoints_for_replan(self, record, index):
    """A replan cuts the missing runs into new chunks, which no checkpoint of the old ones can continue:
    their progress is dropped (said, with how much of each chunk it was) and their files removed."""
    for (_, chunk_id), path in index.checkpoints().items():
      try:
        saved = chunk_files.partial_summary(path, record, None)
        share = chunk_files.done_fraction(int(saved['positions'].size), int(saved['width']), int(saved['calls']),
                                          int(saved['next_interval']), record.intervals)
      except DamagedChunk:
        share = float('nan')
      log.warning('--replan drops the checkpoint of chunk %d (%s of its runs\' steps computed): the new chunks '
                  'compute its runs from step 0', chunk_id, 'an unknown share' if share != share else f'{share:.0%}')
      files.remove(path)

  # --- leases ------------------------------------------------------------------------------------

  def leases(self):
    """This process's leases on the folder's chunks (leases.Leases: take, release, close)."""
    return leases.Leases(self.out)

  def lease_is_live(self, number, chunk_id):
    return leases.lease_is_live(folder_paths.lease_path(self.out, number, chunk_id))

  def live_leases(self):
    """Names of the chunks some live process is computing."""
    return leases.live_leases(self.out)

  def lease_is_future_dated(self, number, chunk_id):
    """Whether a chunk's lease is dated in the future by its host's clock (its holder's pace is unknown)."""
    lease = leases.read_lease(folder_paths.lease_path(self.out, number, chunk_id))
    return bool((lease or ({}, 0))[0].get('future'))

  def future_dated_leases(self):
    return leases.future_dated(self.out)

  # --- setting up, the merge ---------------------------------------------------------------------

  def create(self, fresh=False):
    """Makes the folder (emptied first when fresh) and removes the temporary files of writers killed
    mid-write, before anything is counted."""
    files.ensure_folder(self.out)
    if fresh:
      record = None
      with contextlib.suppress(StoreError):  # a damaged plan goes too
        record = self.plan()
      chunk_files.discard(self.out, record)
    chunk_files.remove_stale_temporaries(self.out)

  def merge(self, allow_missing=False, keep_chunks=True):
    """(path of the merged grid, diverged run coordinates): merging.merge."""
    return merging.merge(self.out, self.require_plan(started=''), allow_missing=allow_missing, keep_chunks=keep_chunks)

  def write_text(self, name, text):
    """A file beside the grid (a rehearsal's report), written atomically."""
    files.write_text(os.path.join(self.out, name), text)


diverged_runs = merging.diverged_runs  # runs of a chunk's metrics whose final test loss is not finite
