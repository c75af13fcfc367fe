"""Stopping a sweep cleanly on a signal (SIGINT, SIGTERM, SIGUSR2): finish and save the chunk at
hand, then stop; a second signal abandons it at once."""

import logging
import os
import signal
import threading

log = logging.getLogger('sslgap')


class StopOnSignal:
  """First signal: finish (and save) the current chunk, then stop. A second one, if
  abandon_on_second, abandons the chunk at once (on_abandon runs first), unless it was computed
  already and is being written: then it is written, and the process exits.

  Python runs signal handlers only between bytecodes, so while XLA computes a chunk they would
  wait for it; a thread that reads signal.set_wakeup_fd sees each signal when it arrives.
  """

  def __init__(self, signals, abandon_on_second, on_abandon=None):
    self.signals, self.abandon_on_second, self.on_abandon = tuple(signals), abandon_on_second, on_abandon
    self.signum = 0
    self._lock = threading.Lock()
    self._protected = False
    self._exit_after_write = 0

  def __enter__(self):
    self._previous, self._pipe = {}, None
    if threading.current_thread() is not threading.main_thread():
      return self  # only the main thread may handle signals: a run in another thread keeps the defaults
    self._previous = {s: signal.signal(s, self._handle) for s in self.signals}
    if self.abandon_on_second:
      read, write = os.pipe()
      os.set_blocking(write, False)
      self._pipe, self._old_fd = (read, write), signal.set_wakeup_fd(write)
      threading.Thread(target=self._watch, daemon=True).start()
    return self

  def _handle(self, signum, frame):
    if self._pipe is None:  # no watcher thread: count it here
      self._note(signum)

  def _watch(self):
    while True:
      try:
        data = os.read(self._pipe[0], 1)
      except OSError:
        return
      if not data:
        return
      if data[0] in self.signals:
        self._note(data[0])

  def _note(self, signum):
    with self._lock:
      first = not self.signum
      if first:
        self.signum = signum
      elif self._protected:
        self._exit_after_write = signum
    if first:
      log.warning('%s received: finishing the current chunk, then stopping%s', signal.Signals(signum).name,
                  ' (again to abandon it)' if self.abandon_on_second else '')
    elif self.abandon_on_second and not self._exit_after_write:
      self._leave(signum)

  def _leave(self, signum):
    log.warning('%s received again: abandoning the current chunk; the saved ones stay', signal.Signals(signum).name)
    if self.on_abandon:
      self.on_abandon()
    os._exit(128 + signum)

  def protect(self):
    """From here until done_writing(), a computed chunk is saved before any exit."""
    with self._lock:
      self._protected = True

  def done_writing(self):
    with self._lock:
      self._protected, leave = False, self._exit_after_write
    if leave:
      self._leave(leave)

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)
    if self._pipe:
      signal.set_wakeup_fd(self._old_fd)
      for fd in self._pipe:
        os.close(fd)


class Interrupted(Exception):
  """A signal ended the work: its number, for the exit code 128 + signum."""

  def __init__(self, signum):
    super().__init__(f'{signal.Signals(signum).name} received')
    self.signum = signum


def run_forwarding_signals(command, signals=(signal.SIGINT, signal.SIGTERM, signal.SIGUSR2), **popen):
  """Runs a child process to its end and returns (returncode, stdout, stderr); a signal this process
  gets is passed on to the child (in a session of its own, so that a terminal's Ctrl-C reaches it
  once, through here), which stops cleanly; then Interrupted(signum). The child is never orphaned."""
  import subprocess
  process = subprocess.Popen(command, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, **popen)
  received = []

  def forward(signum, frame):
    del frame
    received.append(signum)
    if process.poll() is None:
      process.send_signal(signum)

  main = threading.current_thread() is threading.main_thread()
  previous = {s: signal.signal(s, forward) for s in signals} if main else {}
  try:
    stdout, stderr = process.communicate()
  finally:
    if process.poll() is None:  # an exception of our own while waiting: the child must not outlive us
      process.terminate()
      process.wait()
    for s, handler in previous.items():
      signal.signal(s, handler)
  if received:
    raise Interrupted(received[0])
  return process.returncode, stdout, stderr
