"""Running the experiment scripts as a user would, on a tiny grid of 12 runs (shared by the tests)."""

import contextlib
import os
import signal
import subprocess
import sys
import time

import numpy as np

from sslgap import results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ['--config=sweeps/init_scale_heatmap.py:small', '--config.task.n=8', '--config.task.k=3',
        '--config.task.test_size=256', '--config.data.eval_train_size=64',
        '--config.model.width=16', '--config.train.batch_size=16',
        '--config.sweep.init_scale_first=(0.5,1.0,2.0)', '--config.sweep.init_scale_rest=(1.0,)',
        '--config.sweep.dataset_size=(32,256)', '--config.sweep.seed=(0,1)']
SHORT = ['--config.train.steps=20', '--config.train.eval_every=10']
# Long enough per run that a chunk of one run takes a noticeable time (for signals mid-sweep); one
# run per kernel call, so that a chunk of one is not padded to the 12 runs a call would hold.
LONGER = ['--config.train.steps=600', '--config.train.eval_every=300', '--chunk_size=1', '--config.engine.call_width=1']


def tiny_config():
  """The config that TINY + SHORT give on the command line, built in Python (for sslgap.run)."""
  from sslgap import config as config_lib
  c = config_lib.load(os.path.join(ROOT, 'sweeps', 'init_scale_heatmap.py:small'))
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.data.eval_train_size = 64
  c.model.width, c.train.batch_size = 16, 16
  c.sweep.init_scale_first, c.sweep.init_scale_rest = (0.5, 1.0, 2.0), (1.0,)
  c.sweep.dataset_size, c.sweep.seed = (32, 256), (0, 1)
  c.train.steps, c.train.eval_every = 20, 10
  return c


def env(devices=1, **extra):
  """The subprocess environment: CPU, `devices` XLA devices, no inherited XLA_FLAGS."""
  e = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONUNBUFFERED='1', SSLGAP_HOST_DEVICES=str(devices), **extra)
  e.pop('XLA_FLAGS', None)
  return e


def command(out, *args, script='experiments/init_scale_heatmap.py', tiny=True):
  """The command line; a flag in args replaces TINY's of the same name (the CLI refuses a flag twice)."""
  names = {a.split('=', 1)[0] for a in args}
  base = [a for a in TINY if a.split('=', 1)[0] not in names] if tiny else []
  return [sys.executable, script, *base, f'--out={out}', *args]


def _sigint_as_in_a_terminal():
  # A shell starts a background job (`.ci/run &`, nohup) with SIGINT ignored and every child inherits
  # that, so a test's Ctrl-C would reach nothing; a user's command in a terminal has it at its default.
  signal.signal(signal.SIGINT, signal.SIG_DFL)


def _devices_here():
  import jax
  return jax.local_device_count()


def run(out, *args, devices=1, wait=True, expect=0, process=False, **kwargs):
  """Runs the script; returns its stderr (asserting the exit code) or, with wait=False, the process.

  A run that is waited for on one device runs in this process (the script's main under a flagsaver, as
  script_in_process): a fresh interpreter costs each of the suite's ~100 sweeps about 3 s of importing
  JAX and reading compiled kernels back. A process is kept where the process itself is under test:
  wait=False (signals, kills, two processes on a folder), devices > 1 (XLA's device count is fixed
  when JAX starts), and process=True (one end-to-end run of each command, environment variables)."""
  cmd = command(out, *args, **kwargs)
  if not wait:
    return subprocess.Popen(cmd, cwd=ROOT, env=env(devices), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=_sigint_as_in_a_terminal)
  if not process and devices == _devices_here():
    return script_in_process(*cmd[1:], expect=expect)
  done = subprocess.run(cmd, cwd=ROOT, env=env(devices), capture_output=True, text=True)
  assert done.returncode == expect, done.stderr
  return done.stderr


@contextlib.contextmanager
def _as_a_command(argv):
  """sys.argv, stdout and stderr as a command sees them, and the process's flags and logging as they were
  afterwards (an experiment script sets up logging for itself)."""
  import io
  import logging
  root = logging.getLogger()
  handlers, level, argv_before = list(root.handlers), root.level, sys.argv
  out, err = io.StringIO(), io.StringIO()
  sys.argv = list(argv)
  try:
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
      yield out, err
  finally:
    sys.argv = argv_before
    root.handlers[:] = handlers
    root.setLevel(level)


def _exit_code(call):
  try:
    call()
  except SystemExit as done:
    return 0 if done.code is None else done.code
  return 0


def run_in_process(out, *args, expect=2, **kwargs):
  """An experiment script's command line run in this process, for the mistakes it refuses before anything
  compiles (one line, exit code 2): no fresh interpreter importing JAX for one line of stderr. absl's
  flags are global, so the script's --config flag is defined inside a flagsaver, which removes it again."""
  return script_in_process(*command(out, *args, **kwargs)[1:], expect=expect)


def script_in_process(script, *flags, expect=2):
  """`python SCRIPT FLAGS...` in this process: its stderr, asserting the exit code (see run_in_process)."""
  import runpy
  from absl.testing import flagsaver
  import sslgap.cli  # noqa: F401 - the engine flags, defined once for the process (a flagsaver would drop them)
  with contextlib.chdir(ROOT), _as_a_command([script, *flags]) as (_, err), flagsaver.flagsaver():
    code = _exit_code(lambda: runpy.run_path(os.path.join(ROOT, script), run_name='__main__'))
  assert code == expect, err.getvalue()
  return err.getvalue()


def module_in_process(name, *args, expect=0):
  """python -m <name> <args> run in this process (its main(argv)): (stdout, stderr), asserting the exit code."""
  import importlib
  from sslgap.base import command as tool
  main = importlib.import_module(name).main
  argv = [str(a) for a in args]
  with _as_a_command([name, *argv]) as (out, err):
    code = _exit_code(lambda: tool.run(lambda: main(argv)))  # as `python -m` runs it: tool.run(main)
  assert code == expect, (out.getvalue(), err.getvalue())
  return out.getvalue(), err.getvalue()


def module(*args, expect=0, process=False):
  """python -m <args>: (stdout, stderr), asserting the exit code; in this process (module_in_process)
  unless process=True (one end-to-end run of each command is kept as a process)."""
  if not process:
    with contextlib.chdir(ROOT):
      return module_in_process(*args, expect=expect)
  done = subprocess.run([sys.executable, '-m', *map(str, args)], cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == expect, (done.stdout, done.stderr)
  return done.stdout, done.stderr


def grid(out, name='init_scale_heatmap'):
  return results.load(os.path.join(out, f'{name}.npz'))


def assert_same_grid(a, b, exact=False):
  assert a.axis_names == b.axis_names and set(a.metrics) == set(b.metrics)
  for name in a.metrics:
    if exact:
      np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    else:
      np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)


def wait_until(condition, process, what='the condition'):
  """Polls until condition() holds, for as long as that takes: no wall-clock limit, since a busy machine
  only makes a test slower, never wrong (a hung test shows its stack after pytest's faulthandler_timeout).
  If `process` (a Popen, or a submitit job: anything with poll() or done()) ends first and the condition
  still does not hold, the test fails with what it wrote instead of waiting for ever."""
  while not condition():
    ended = process.poll() is not None if hasattr(process, 'poll') else process.done()
    if ended and not condition():
      detail = process.communicate()[1] if hasattr(process, 'communicate') else ''
      raise AssertionError(f'the process ended before {what}: {detail}')
    time.sleep(0.02)


@contextlib.contextmanager
def cpu_hog(processes=None):
  """Busy loops on every core (or `processes` of them) while the block runs: a machine busy with other
  work, as CI's often is, under which a result must stay bitwise the same."""
  cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else (os.cpu_count() or 1)
  count = processes or cores
  hogs = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(count)]
  try:
    yield hogs
  finally:
    for hog in hogs:
      hog.kill()
      hog.wait()
