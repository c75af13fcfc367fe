"""Files that survive crashes and shared filesystems (standard library only).

Every file is written to a temporary name in its folder, flushed to disk, given the mode the
user's umask allows (group-readable by default, like any other file they make), and renamed
into place, so a reader never sees half a file and a node crash never leaves one behind.
An OS error becomes a FileError that names the path.
"""

import contextlib
import glob
import os
import re
import socket
import tempfile
import time

from sslgap.errors import FileError


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


FILE_MODE = 0o666 & ~_umask()
HOST = socket.gethostname()
# A temporary file is named for its writer (.<name>~<host>~<pid>~<random>.tmp), so that the next process to
# open the folder can tell one whose writer died (a SIGKILL mid-write) from one being written now.
_TEMPORARY = re.compile(r'~([^~/]*)~(\d+)~[^~/]*\.tmp$')


def pid_alive(pid):
  """Whether a process of this host has this pid (one of another user's counts as alive)."""
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True
  return True


def describe(error):
  """The reason in an OSError, without the errno noise."""
  return error.strerror or str(error)


def ensure_folder(path):
  """Creates `path` (and parents); refuses a path that exists as something other than a folder."""
  if os.path.exists(path) and not os.path.isdir(path):
    raise FileError(path, 'exists and is not a folder')
  try:
    os.makedirs(path, exist_ok=True)
  except OSError as e:
    raise FileError(path, f'cannot create the folder ({describe(e)})') from None
  if not os.access(path, os.W_OK | os.X_OK):
    raise FileError(path, 'the folder is not writable')


def fsync_folder(path):
  """Makes a rename inside `path` durable (a no-op where folders cannot be opened)."""
  try:
    fd = os.open(path, os.O_RDONLY)
  except OSError:
    return
  try:
    os.fsync(fd)
  except OSError:
    pass
  finally:
    os.close(fd)


def atomic_write(path, write, binary=True, exclusive=False):
  """Writes `path` through write(file object): durable, whole or not at all.

  exclusive: create `path` only if it does not exist (an atomic hard link of the finished
  temporary file); returns False, writing nothing, if it does.
  """
  folder = os.path.dirname(os.path.abspath(path))
  tmp = None
  try:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{os.path.basename(path)}~{HOST}~{os.getpid()}~', suffix='.tmp')
    with os.fdopen(fd, 'wb' if binary else 'w') as f:
      write(f)
      f.flush()
      os.fsync(f.fileno())
    os.chmod(tmp, FILE_MODE)
    if exclusive:
      try:
        os.link(tmp, path)
      except FileExistsError:
        return False
    else:
      os.replace(tmp, path)
    fsync_folder(folder)
    return True
  except FileError:
    raise
  except OSError as e:
    raise FileError(path, f'cannot write ({describe(e)})') from None
  finally:
    if tmp is not None:
      with contextlib.suppress(OSError):
        os.remove(tmp)  # gone already after a rename


def write_text(path, text, exclusive=False):
  return atomic_write(path, lambda f: f.write(text), binary=False, exclusive=exclusive)


def remove(path):
  with contextlib.suppress(FileNotFoundError):
    os.remove(path)


QUIET_SECONDS = 60.0  # a live writer touches its temporary file more often than this


def remove_stray_temporaries(folder, stale_seconds):
  """Removes the temporary files in `folder` whose writer is gone: one of a dead process of this host once
  it has not changed for QUIET_SECONDS (a killed writer's temporary checkpoint may weigh gigabytes; the
  pause guards a live writer in another pid namespace behind the same host name), and any file untouched
  for stale_seconds (another host's, which cannot be asked, or a reused pid's). Returns the paths removed."""
  removed = []
  for path in glob.glob(os.path.join(folder, '.*.tmp')):
    found = _TEMPORARY.search(os.path.basename(path))
    try:
      quiet = time.time() - os.path.getmtime(path)
      if found and found.group(1) == HOST and int(found.group(2)) != os.getpid() \
          and not pid_alive(int(found.group(2))):
        gone = quiet > QUIET_SECONDS
      else:  # alive, another host's, or named before writers were
        gone = quiet > stale_seconds
      if gone:
        os.remove(path)
        removed.append(path)
    except OSError:
      continue  # renamed into place or removed meanwhile
  return removed
