"""Leases: a chunk some process is computing, refreshed while it runs, taken over once stale (its
process gone on this host, or not refreshed for LEASE_STALE_S)."""

import contextlib
import glob
import json
import logging
import os
import threading
import time

from sslgap.base import files
from sslgap.folder import folder_paths

log = logging.getLogger('sslgap')


# A lease not refreshed for this long belongs to a process that is gone (another host's
# process cannot be asked); leases are refreshed every LEASE_REFRESH_S while a chunk runs.
LEASE_STALE_S = float(os.environ.get('SSLGAP_LEASE_STALE_S', 600))
LEASE_REFRESH_S = min(60.0, LEASE_STALE_S / 5)

HOST = files.HOST
# A cluster job keeps its id when it is requeued: a lease of this job's earlier incarnation is stale.
JOB = os.environ.get('SLURM_JOB_ID') or os.environ.get('SUBMITIT_LOCAL_JOB_ID') or ''


# A lease's age is its file's: the seconds since its holder last touched it. A host whose clock runs ahead
# dates it in the future, where it would look fresh for as long as the clock is off; such a lease ages
# by this reader's clock instead, from when the reader first saw it as it is (a refresh changes it).
CLOCK_SLACK_S = 5.0
_FIRST_SEEN = {}  # (device, inode, mtime) of a lease dated in the future -> this process's monotonic time


def lease_age(path, stat):
  """(seconds since the lease was last refreshed, whether its date is in the future of this host's clock)."""
  age = time.time() - stat.st_mtime
  if age >= -CLOCK_SLACK_S:
    return max(age, 0.0), False
  # Keyed by the file, not its name: a lease renamed aside to be taken over keeps its age.
  seen = _FIRST_SEEN.setdefault((stat.st_dev, stat.st_ino, stat.st_mtime_ns), time.monotonic())
  return time.monotonic() - seen, True


def read_lease(path):
  """(owner dict, seconds since its last refresh) or None if there is no lease; the owner has 'future':
  True when the lease is dated in the future (another host's clock), whose age then counts from when
  this process first saw it.

  An owner that cannot be read (being written, or another user's file) is {}: only its age counts."""
  try:
    age, future = lease_age(path, os.stat(path))
  except FileNotFoundError:
    return None
  try:
    with open(path) as f:
      owner = json.load(f)
  except FileNotFoundError:
    return None
  except (OSError, ValueError):
    owner = {}
  if not isinstance(owner, dict):
    owner = {}
  return (dict(owner, future=True) if future else owner), age


def lease_is_live(path):
  found = read_lease(path)
  if found is None:
    return False
  owner, age = found
  if owner.get('host') == HOST and isinstance(owner.get('pid'), int) and owner['pid'] != os.getpid():
    if not files.pid_alive(owner['pid']) or (JOB and owner.get('job') == JOB):
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


def future_dated(out):
  """Names of the chunks whose lease is dated in the future by its host's clock (a skewed clock): their
  age is unknown to a process that has not watched them."""
  found = []
  for path in glob.glob(os.path.join(folder_paths.chunk_dir(out), '*.lease')):
    lease = read_lease(path)
    if lease and lease[0].get('future'):
      found.append(os.path.basename(path)[:-len('.lease')])
  return sorted(found)
