"""What every experiment script shares: the config and engine flags, running the sweep into a
folder, its figure, and one-line errors (exit code 2) for anything a user can get wrong.

A script is `cli.main(default_config='sweeps/x.py:small')`; its --help lists the config and
engine flags. The figure is the one the config's plot section asks for (sslgap.plotting.draw).
"""

import signal
import threading

# Ctrl-C while the libraries below import (a second or two) could be swallowed by an import guard
# that catches everything, and the sweep would then run to the end: until main() starts, a SIGINT
# is only noted, and main() stops at once with one line.
_EARLY_SIGNALS = []
if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
  signal.signal(signal.SIGINT, lambda signum, frame: _EARLY_SIGNALS.append(signum))

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from ml_collections import config_flags  # noqa: E402

from sslgap import api  # noqa: E402
from sslgap.base import command  # noqa: E402
from sslgap.setup import config as config_lib  # noqa: E402
from sslgap.engine import launch  # noqa: E402
from sslgap.engine import memory  # noqa: E402
from sslgap.engine import rehearse  # noqa: E402
from sslgap.science import results as results_lib  # noqa: E402
from sslgap.engine import runner  # noqa: E402
from sslgap.engine import sweep  # noqa: E402
from sslgap.errors import UserError  # noqa: E402

FLAGS = flags.FLAGS
_OUT = flags.DEFINE_string('out', None, 'Output folder (default: results/<config.name>).')
_CHUNK_SIZE = flags.DEFINE_integer('chunk_size', None, 'Runs per chunk file, the unit of resume and shards (default: '
                                   "one kernel call's worth, engine.call_width: the most that fit the memory budget).")
_MEMORY_BUDGET = flags.DEFINE_string('memory_budget', None, 'Bytes per device for a chunk, e.g. 60GB '
                                     '(default: engine.memory_fraction of the device memory).')
_SHARD = flags.DEFINE_string('shard', '0/1', 'i/N: run only every N-th chunk, starting at chunk i.')
_FRESH = flags.DEFINE_bool('fresh', False, 'Discard the folder\'s chunks, plan and grid instead of resuming.')
_REPLAN = flags.DEFINE_bool('replan', False, 'Cut the runs still missing in --out into chunks sized for this '
                            'device (or --chunk_size); finished chunks are kept.')
_KEEP_CHUNKS = flags.DEFINE_bool('keep_chunks', False, 'Keep the chunk files after the grid is merged.')
_DRY_RUN = flags.DEFINE_bool('dry_run', False, 'Print the plan (grid, kernels, chunks, memory) and exit.')
_DEVICE = flags.DEFINE_string('device', None, 'With --dry_run: plan for this accelerator instead of this machine, '
                              f'e.g. h100 or h100x8 (known: {", ".join(sorted(memory.NAMED_DEVICES))}).')
_MAX_CHUNKS = flags.DEFINE_integer('max_chunks', 0, 'Rehearse: run only this many chunks of the real plan (one per '
                                   'compiled kernel first), then print the measured time and memory per chunk and '
                                   'the projected wall time ("projected: ...").')
_FORMAT = flags.DEFINE_enum('format', 'png', ['png', 'pdf', 'svg'], 'File format of the figure (pdf and svg are vectors).')
_QUIET = flags.DEFINE_bool('quiet', False, 'No progress bar and no plan: warnings and one line per chunk.')
_CACHE = flags.DEFINE_string('compilation_cache', None, "Folder for JAX's persistent compilation cache "
                             '(default under --launcher: <out>/jax_cache).')
_LAUNCHER = flags.DEFINE_enum('launcher', None, ['slurm', 'local'],
                              'Submit --shards shards as a job array with submitit, then merge (extra "cluster").')
_SHARDS = flags.DEFINE_integer('shards', 4, 'Number of shards for --launcher (and for --max_chunks projections).',
                               lower_bound=1)
_SLURM_PARTITION = flags.DEFINE_string('slurm_partition', None, 'Slurm partition for --launcher=slurm.')
_TIMEOUT_MIN = flags.DEFINE_integer('timeout_min', 240, 'Time limit per shard job, minutes.', lower_bound=1)
_GPUS_PER_NODE = flags.DEFINE_integer('gpus_per_node', 1, 'GPUs per shard job for --launcher=slurm.', lower_bound=0)
_MAX_TIMEOUTS = flags.DEFINE_integer('max_timeouts', 20, 'Times a shard that reaches its time limit is requeued '
                                     '(preempted shards are requeued without limit).', lower_bound=0)
_SIGNAL_DELAY = flags.DEFINE_integer('signal_delay_s', 120, 'Seconds before the time limit at which Slurm signals a '
                                     'shard to save its chunk and requeue (keep it above a chunk\'s time).',
                                     lower_bound=1)

USER_ERRORS = (UserError, ValueError, OSError)


fail = command.fail  # one line on stderr and exit code 2: the way every user error ends


def _first_line(error):
  """The line of a (possibly wrapped, multi-line) error that says what is wrong."""
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  useful = [line for line in lines if not line.startswith(('Attempted', 'Traceback', 'File "'))]
  return (useful or lines or [type(error).__name__])[-1]


def _check_config_argument(argv):
  """A config file that cannot be loaded, said in one line naming the file (config_flags would print
  every path it tried, or the file's own traceback)."""
  for i, arg in enumerate(argv):
    value = arg.split('=', 1)[1] if arg.startswith('--config=') else (
        argv[i + 1] if arg == '--config' and i + 1 < len(argv) else None)
    if value is not None:
      path = value.split(':', 1)[0]
      if not os.path.isfile(path):
        fail(f'--config: no such config file {path!r} (run from the repository root, e.g. '
             '--config=sweeps/init_scale_heatmap.py:small)')
      try:
        config_lib.load(value)
      except UserError as error:
        fail(f'--config: {_first_line(error)}')


def _check_no_repeated_flags(argv):
  """A flag given twice is refused: config_flags would join two tuples given for one key."""
  seen = set()
  for arg in argv:
    if arg.startswith('--') and '=' in arg:
      name = arg.split('=', 1)[0]
      if name in seen:
        fail(f'{name} is given twice; give it once')
      seen.add(name)


def parse_flags(argv):
  """absl's flag parsing, with every parsing error as one line and exit code 2."""
  _check_no_repeated_flags(argv[1:])
  _check_config_argument(argv[1:])
  try:
    return FLAGS(argv)
  except SystemExit as done:  # absl exits with 1 after printing --help; asking for help is no error
    if any(arg in ('--help', '-h', '-?', '--helpshort', '--helpfull', '--helpxml') for arg in argv[1:]):
      sys.exit(0)
    raise done
  except flags.Error as error:
    if 'config' in str(error) and 'other than None' in str(error):
      fail('--config is required: a sweep config file with an optional preset, '
           'e.g. --config=sweeps/fig1_parity.py:small')
    fail(_first_line(error))


def define_config_flag(default):
  return config_flags.DEFINE_config_file(
      'config', default, 'Sweep config file with an optional :preset, e.g. sweeps/fig1_parity.py:small. '
      'Any key can be overridden: --config.hp.lr=0.05, and new sweep axes added: --config.sweep.lr=(0.1,0.2).',
      lock_config=False, accept_new_attributes=True)


def main(default_config=None):
  """Defines --config, parses the flags and runs the experiment (an experiment script's whole main)."""
  config_flag = define_config_flag(default_config)
  if default_config is None:
    flags.mark_flag_as_required('config')
  for flag in FLAGS.get_key_flags_for_module(sys.modules[__name__]) + [FLAGS['config']]:
    FLAGS.register_key_flag_for_module(sys.argv[0], flag)  # absl's --help lists the main module's key flags

  def run(argv):
    if len(argv) > 1:
      fail(f'unexpected argument {argv[1]!r}; flags are written --name=value')
    config = config_flag.value
    config_lib.plugins_beside(config, config_flags.get_config_filename(FLAGS['config']))
    run_experiment(config)

  _stop_if_interrupted_early()
  try:
    app.run(run, flags_parser=parse_flags)
  except KeyboardInterrupt:
    _interrupted()


def _interrupted():
  print('error: interrupted (Ctrl-C); the chunks already saved are kept, rerun the same command to resume',
        file=sys.stderr)
  sys.exit(128 + signal.SIGINT)


def _stop_if_interrupted_early():
  """Stops on a Ctrl-C that came while the libraries imported; from here on it is a KeyboardInterrupt
  (before the sweep starts) or the sweep's own clean stop."""
  if threading.current_thread() is threading.main_thread():
    signal.signal(signal.SIGINT, signal.default_int_handler)
  if _EARLY_SIGNALS:
    _interrupted()


def run_experiment(config):
  """Like _run_experiment, but a bad config, flag, file or folder ends with its message, exit code 2."""
  try:
    return _run_experiment(config)
  except USER_ERRORS as error:
    fail(_first_line(error))
  except KeyboardInterrupt:
    _interrupted()


def _options():
  return runner.Options(chunk_size=_CHUNK_SIZE.value, memory_budget=_MEMORY_BUDGET.value, shard=_SHARD.value,
                        fresh=_FRESH.value, replan=_REPLAN.value, keep_chunks=_KEEP_CHUNKS.value,
                        max_chunks=_MAX_CHUNKS.value, projected_shards=_SHARDS.value if FLAGS['shards'].present else 1,
                        progress=not (_QUIET.value or _MAX_CHUNKS.value))


def _set_up_logging():
  # Our one-line format in place of absl's handler, which is taken off without closing it: closing a handler
  # closes its stream, which is the stderr it found when absl was imported (a caller's own, in a notebook or test).
  root = logging.getLogger()
  for handler in list(root.handlers):
    root.removeHandler(handler)
  logging.basicConfig(level=logging.WARNING if _QUIET.value else logging.INFO, format='%(message)s')
  logging.getLogger('sslgap.progress').setLevel(logging.INFO)
  # A CPU-only jaxlib reports, at INFO, that it found no TPU or GPU backend: noise on a laptop.
  logging.getLogger('jax._src.xla_bridge').setLevel(logging.WARNING)


def projected_line(plan, named=False):
  """The dry run's `projected:` line: the sweep's computing time from its FLOPs at a stated rate."""
  device, rate = plan.device, rehearse.PREDICTED_FLOPS.get(plan.device.get('platform'), rehearse.PREDICTED_FLOPS['gpu'])
  where = f'{device["count"]} x {device["kind"]}' if device['count'] > 1 else device['kind']
  source = (('an assumed rate, 10% of a GPU\'s float32 peak; an H200 ran the paper Fig 6 sweep at 23,000: '
             'docs/GPU_MEASURED.md') if device['platform'] != 'cpu'
            else 'the low end of what benchmarks/bench_sweep.py measured on 2-core CPUs')
  return (f'projected: about {command.duration(sweep.predicted_sweep_seconds(plan))} of computing on '
          f'{where if named else f"this machine ({where})"} at {rate / 1e9:,.0f} GFLOP/s per device ({source}), '
          f'plus compiling {plan.num_kernels} kernel(s); --max_chunks=1 measures it on a real chunk')


def _run_experiment(config):
  """Runs config's sweep into <out>, writes <out>/<name>.npz and its figure (<name>.png, or
  --format); returns the .npz path or None. Exits with 128 + signal number if interrupted.
  """
  _set_up_logging()
  if _DEVICE.value and not _DRY_RUN.value:
    raise ValueError('--device plans for another machine: use it with --dry_run')
  options = _options()
  if _CACHE.value:
    launch.use_compilation_cache(_CACHE.value)
  out = _OUT.value or os.path.join('results', config.name)
  if _DRY_RUN.value:
    device = memory.named_device(_DEVICE.value) if _DEVICE.value else None
    plan = sweep.make_plan(config, _CHUNK_SIZE.value, _MEMORY_BUDGET.value, device=device)
    print(plan.describe())
    print(projected_line(plan, named=bool(_DEVICE.value)))
    return None
  if _LAUNCHER.value:
    path = launch.launch(config, out, _SHARDS.value, _LAUNCHER.value, options, partition=_SLURM_PARTITION.value,
                         timeout_min=_TIMEOUT_MIN.value, gpus_per_node=_GPUS_PER_NODE.value,
                         signal_delay_s=_SIGNAL_DELAY.value, max_timeouts=_MAX_TIMEOUTS.value,
                         compilation_cache=_CACHE.value)
  else:
    summary = runner.run_to_folder(config, out, options)
    if summary.stopped_by:
      sys.exit(128 + summary.stopped_by)
    if summary.folder_changed:
      fail(summary.folder_changed)
    path = summary.path
  if path:
    api.write_figure(config, results_lib.load(path), os.path.join(out, f'{config.name}.{_FORMAT.value}'))
  return path
