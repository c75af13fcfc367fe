import collections
import os
import shutil
import sys
import tempfile

# Tests run on the CPU with one device unless a test asks for more in a subprocess.
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
# One XLA device in the test processes, as in the commands they run (sweep_cli.env): a sweep run in a
# test's own process then computes what its command computes, bitwise.
os.environ.setdefault('SSLGAP_HOST_DEVICES', '1')
# Many tests run the same tiny kernels in fresh processes: JAX's persistent compilation cache,
# shared by the session, its xdist workers and their subprocesses, saves each a few seconds of
# compiling. A size limit makes JAX lock the folder (filelock) around each read and write: without it
# an entry is written in place and another worker may read it half-written (a warning on stderr).
# The folder is the session's own (made here by the first process, which removes it at the end: a run
# of the suite leaves about 900 entries).
OWN_CACHE = None
if 'JAX_COMPILATION_CACHE_DIR' not in os.environ:
  OWN_CACHE = os.environ['JAX_COMPILATION_CACHE_DIR'] = tempfile.mkdtemp(prefix='sslgap-tests-jax-cache-')
os.environ.setdefault('JAX_COMPILATION_CACHE_MAX_SIZE', str(64 << 30))
# Only kernels that took 0.1 s to compile are written: with a size limit each write lists the folder, and
# for the 359 kernels of test_train, test_transformer, test_tasks and test_paper_mechanisms that compiled
# in under 50 ms the writes took longer (7.9 s) than compiling them (7.0 s); a read is about 18 ms. Those of
# 50 to 100 ms (22 kernels, 1.6 s of compiling) gain little either way: 0.1 s is a round line above them.
os.environ.setdefault('JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS', '0.1')
# Most of a test's time is XLA compiling tiny kernels, and most of that is LLVM optimising code that then
# runs for a second: the suite compiles with JAX's `jax_disable_most_optimizations` (measured: test_train.py
# and test_transformer.py in 156 s against 250 s), in its processes and the commands they start. What the
# optimisations may change is the last bits, so the tests whose point is bits users get, the golden grids
# and a vmapped run against the run alone, are marked `optimized` and compile at XLA's default level.
os.environ.setdefault('JAX_DISABLE_MOST_OPTIMIZATIONS', '1')
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402

from sslgap import config as config_lib  # noqa: E402


# xdist gives each worker whole files (--dist loadfile) in collection order (--no-loadscope-reorder): the
# longest files go first, so that the last files either worker takes are short and the two end together
# (longest first). Ordered by its count of tests, xdist began test_segments.py (3 minutes) at minute 3.6 and
# test_benchmarks.py (50 s) at minute 7.4, and one worker waited 10 s for the other at the end.
LONGEST_FILES_FIRST = ('test_segments.py', 'test_golden.py', 'test_cluster.py', 'test_train.py', 'test_transformer.py',
                       'test_faults.py', 'test_engine.py', 'test_benchmarks.py')


def pytest_collection_modifyitems(items):
  """The longest files first, then the others by their count of tests (as xdist would), each file's tests in
  their order; the same order in every worker, as xdist requires."""
  counts = collections.Counter(item.path for item in items)
  rank = lambda path: (LONGEST_FILES_FIRST.index(path.name) if path.name in LONGEST_FILES_FIRST
                       else len(LONGEST_FILES_FIRST), -counts[path], str(path))
  items.sort(key=lambda item: rank(item.path))


def pytest_unconfigure(config):
  if OWN_CACHE:
    shutil.rmtree(OWN_CACHE, ignore_errors=True)


def pytest_configure(config):
  config.addinivalue_line('markers', 'optimized: compiled at XLA\'s default optimisation level, as users run '
                          '(the suite compiles with most optimisations off: conftest.py)')


@pytest.fixture(autouse=True)
def _optimization_level(request):
  """A test marked `optimized` compiles at XLA's default level, in its process and the commands it starts;
  the caches of compiled functions are cleared either side, so no kernel crosses levels."""
  if request.node.get_closest_marker('optimized') is None:
    yield
    return
  import jax
  before, env_before = jax.config.values['jax_disable_most_optimizations'], os.environ.get('JAX_DISABLE_MOST_OPTIMIZATIONS')
  jax.clear_caches()
  jax.config.update('jax_disable_most_optimizations', False)
  os.environ['JAX_DISABLE_MOST_OPTIMIZATIONS'] = '0'
  try:
    yield
  finally:
    jax.clear_caches()
    jax.config.update('jax_disable_most_optimizations', before)
    if env_before is None:
      os.environ.pop('JAX_DISABLE_MOST_OPTIMIZATIONS', None)
    else:
      os.environ['JAX_DISABLE_MOST_OPTIMIZATIONS'] = env_before


@pytest.fixture
def tiny_config():
  """(8,3)-parity, one hidden layer of width 16, a few steps: compiles and runs in seconds."""
  c = config_lib.base_config()
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.model.hidden_layers, c.model.width = 1, 16
  c.train.batch_size, c.train.steps, c.train.eval_every = 16, 20, 10
  c.data.eval_train_size = 64
  c.hp.dataset_size = 64
  return c


@pytest.fixture
def check_chunk_equals_runs_alone():
  """Runs a config's first chunk vmapped, then each of its runs alone under jit, and compares."""
  import chex
  import jax
  import numpy as np

  from sslgap import sweep
  from sslgap import train

  def check(config, chunk_size=None):
    plan = sweep.make_plan(config, chunk_size=chunk_size)
    executor = sweep.Executor(plan)
    metrics, where = executor.run_chunk(0)
    data = executor._subgrid_data(plan.subgrids[0])
    alone = jax.jit(train.make_run(plan.subgrids[0].spec))
    hp = executor.chunk_hp(plan.subgrids[0], np.arange(len(where)))
    for i in range(len(where)):
      single = alone(jax.tree_util.tree_map(lambda v: v[i], hp), data)
      chex.assert_trees_all_close({k: v[i] for k, v in metrics.items()}, single, rtol=2e-5, atol=2e-6)
    return plan, where

  return check


@pytest.fixture(scope='session')
def reference_sweep(tmp_path_factory):
  """The 12-run tiny sweep (TINY + SHORT, one chunk of 12) that several files compare against, computed
  once per run of the suite: the first xdist worker to ask computes it under a file lock in the folder
  all workers share, the others read it. Returns (out, log); the folder is read-only to its users
  (a test that changes one copies it)."""
  import filelock

  from sweep_cli import SHORT
  from sweep_cli import run as cli

  shared = tmp_path_factory.getbasetemp()
  if os.environ.get('PYTEST_XDIST_WORKER'):
    shared = shared.parent  # the base every worker's own base sits in
  out, log_path = shared / 'reference_sweep', shared / 'reference_sweep.log'
  with filelock.FileLock(str(shared / 'reference_sweep.lock')):
    if not log_path.exists():
      log = cli(out, *SHORT, '--chunk_size=12')
      log_path.write_text(log)
  return out, log_path.read_text()
