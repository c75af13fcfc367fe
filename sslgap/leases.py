"""Leases: a chunk some process is computing, refreshed while it runs, taken over once stale (its
process gone on this host, or not refreshed for LEASE_STALE_S)."""

import contextlib
import glob
import json
import logging
import os
import socket
import threading
import time

from sslgap import files
from sslgap import folder_paths

log = logging.getLogger('sslgap')


# A lease not refreshed for this long belongs to a process that is gone (another host's
# process cannot be asked); leases are refreshed every LEASE_REFRESH_S while a chunk runs.
LEASE_STALE_S = float(os.environ.get('SSLGAP_LEASE_STALE_S', 600))
LEASE_REFRESH_S = min(60.0, LEASE_STALE_S / 5)

HOST = socket.gethostname()
# A cluster job keeps its id when it is requeued: a lease of this job's earlier incarnation is stale.
JOB = os.environ.get('SLURM_JOB_ID') or os.environ.get('SUBMITIT_LOCAL_JOB_ID') or ''


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
    path = folder_paths.lease_path(self.out, layout, chunk_id)
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
    path = folder_paths.lease_path(self.out, layout, chunk_id)
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
  return sorted(os.path.basename(p)[:-len('.lease')] for p in glob.glob(os.path.join(folder_paths.chunk_dir(out), '*.lease'))
                if lease_is_live(p))
