"""Files that survive crashes and shared filesystems (standard library only).

Every file is written to a temporary name in its folder, flushed to disk, given the mode the
user's umask allows (group-readable by default, like any other file they make), and renamed
into place, so a reader never sees half a file and a node crash never leaves one behind.
An OS error becomes a FileError that names the path.
"""

import contextlib
import os
import tempfile

from sslgap.errors import FileError


def _umask():
  mask = os.umask(0)
  os.umask(mask)
  return mask


FILE_MODE = 0o666 & ~_umask()


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
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.' + os.path.basename(path) + '.', suffix='.tmp')
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
