"""The faults a hostile user found (issue 19), each as a regression: processes racing at the end of a
sweep, files that lie, nonsense accepted, numbers that moved with the chunk size, and tracebacks
where one line was promised."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest

import golden
import sslgap
from sslgap import config as config_lib
from sslgap import errors
from sslgap import models
from sslgap import plugins
from sslgap import reproduce
from sslgap import results
from sslgap import runner
from sslgap import chunk_files
from sslgap import folder_paths
from sslgap import sweep
from sslgap import tasks
from sweep_cli import LONGER, ROOT, SHORT, env, grid, module, tiny_config
from sweep_cli import module_in_process, run_in_process, script_in_process, wait_until
from sweep_cli import command as cli_command
from sweep_cli import run as cli


def _one_line(stderr):
  lines = [line for line in stderr.strip().splitlines() if line.strip()]
  assert len(lines) == 1 and 'Traceback' not in stderr, stderr
  return lines[0]


# --- the end of a sweep ------------------------------------------------------------------------------
# (two processes on one shard: test_cluster.test_two_processes_on_one_folder_split_the_work_and_end_in_one_grid)

@pytest.fixture(scope='module')
def kept(tmp_path_factory):
  """A complete folder of 4 chunks of 3 runs, its chunk files kept."""
  out = tmp_path_factory.mktemp('kept')
  cli(out, *SHORT, '--chunk_size=3', '--keep_chunks', '--quiet')
  return out


def _copy(kept, tmp_path):
  out = tmp_path / 'out'
  shutil.copytree(kept, out)
  return out


def test_status_reads_the_merged_grid_before_chunk_files(kept, tmp_path):
  out = _copy(kept, tmp_path)
  os.remove(folder_paths.chunk_path(out, 0))  # a merged grid, and chunk files beside it that are not all of it
  stdout, _ = module('sslgap.status', out)
  assert '12 of 12 runs, 4 of 4 chunks done' in stdout and 'complete; grid:' in stdout, stdout
  log = cli(out, *SHORT, '--chunk_size=3', '--config.plot.labels.init_scale_first=first')
  assert 'is complete already' in log
  assert "the figure follows this command's config.plot, which differs" in log  # a plot override is drawn


def test_a_chunk_file_with_another_chunks_runs_is_set_aside_and_recomputed(kept, tmp_path):
  out = _copy(kept, tmp_path)
  os.remove(out / 'init_scale_heatmap.npz')
  shutil.copy(folder_paths.chunk_path(out, 1), folder_paths.chunk_path(out, 2))  # readable, of this config, the wrong runs
  stdout, _ = module('sslgap.status', out)
  assert '9 of 12 runs, 3 of 4 chunks done' in stdout and 'chunk_000002.npz (holds other runs' in stdout, stdout
  log = cli(out, *SHORT, '--chunk_size=3')
  assert 'chunk_000002.npz is damaged (holds other runs than the plan gives its chunk' in log
  np.testing.assert_array_equal(grid(out)['test_loss'], grid(kept)['test_loss'])


def test_a_process_stopped_by_another_ones_fresh_says_so_with_exit_code_2(tmp_path):
  # about 1.5 s a chunk, 12 chunks: the other process starts over the folder while this one is busy
  slow = [a for a in LONGER if not a.startswith('--config.train.')] + ['--config.train.steps=60000',
                                                                       '--config.train.eval_every=30000']
  process = cli(tmp_path, *slow, '--quiet', wait=False)
  wait_until(lambda: chunk_files.find(tmp_path), process, 'a chunk was done')
  cli(tmp_path, *slow, '--fresh', '--max_chunks=1', '--quiet')
  _, stderr = process.communicate()
  assert process.returncode == 2, stderr
  assert stderr.strip().splitlines()[-1].startswith('error: ') and 'started over (--fresh)' in stderr


# --- nonsense accepted -----------------------------------------------------------------------------

def test_registering_a_taken_name_is_refused_unless_it_says_override(monkeypatch):
  monkeypatch.setitem(tasks.TASKS, 'parity', tasks.TASKS['parity'])  # restored after the test

  class Impostor(tasks.SparseParity):
    pass

  with pytest.raises(errors.PluginError, match="task 'parity' is already registered"):
    tasks.register(Impostor)
  assert tasks.TASKS['parity'] is tasks.SparseParity
  tasks.register(override=True)(Impostor)
  assert tasks.TASKS['parity'].__qualname__.endswith('Impostor')
  monkeypatch.setitem(models.MODELS, 'mlp', models.MODELS['mlp'])

  class Other(models.MLPModel):
    pass

  with pytest.raises(errors.PluginError, match="model 'mlp' is already registered"):
    models.register(Other)


def test_a_plug_in_file_that_takes_a_built_in_name_is_one_line(tmp_path):
  plugin = tmp_path / 'impostor.py'
  plugin.write_text('from sslgap import tasks\n\n@tasks.register\nclass Parity(tasks.SparseParity):\n  pass\n')
  stderr = run_in_process(tmp_path / 'out', *SHORT, f'--config.plugins=("{plugin}",)', expect=2)
  assert "task 'parity' is already registered" in _one_line(stderr) and 'override=True' in stderr


def test_the_same_file_registered_twice_is_one_registration():
  # examples/staircase.py is a plug-in and its own config: imported once as each
  config = config_lib.load(os.path.join(ROOT, 'examples', 'staircase.py:small'))
  config_lib.validate(config)
  plugins.load([os.path.join(ROOT, 'examples', 'staircase.py')])
  assert tasks.TASKS['staircase'].__name__ == 'Staircase'


@pytest.mark.parametrize('axis,values,key', [
    ('seed', (0, 0), 'sweep.seed[1]'),
    ('dataset_size', (32, 'online', 0), 'sweep.dataset_size[2]'),
    ('phase_sizes', ((32, 'online'), (32, 0)), 'sweep.phase_sizes[1]'),
])
def test_duplicate_axis_values_are_refused(tiny_config, axis, values, key):
  if axis == 'phase_sizes':
    tiny_config.hp.phase_sizes, tiny_config.hp.phase_lengths = (32, 'online'), (5,)
  tiny_config.sweep[axis] = values
  with pytest.raises(errors.ConfigError, match=re.escape(f'config.{key}: ') + '.* is already value'):
    config_lib.validate(tiny_config)


def test_a_repeated_value_on_the_command_line_is_one_line(tmp_path):
  stderr = run_in_process(tmp_path, *SHORT, '--config.sweep.lr=(0.1,0.2,0.1)', expect=2)
  assert 'config.sweep.lr[2]: 0.1 is already value [0] of this axis' in _one_line(stderr)


def test_a_value_the_command_line_could_not_read_is_named():
  c = config_lib.load(os.path.join(ROOT, 'sweeps', 'init_scale_heatmap.py:small'))
  c.sweep.lr = '(0.1,nan)'  # what config_flags leaves of --config.sweep.lr='(0.1,nan)'
  with pytest.raises(errors.ConfigError, match=r'config\.sweep\.lr\[1\]: must be a finite number, got nan'):
    config_lib.validate(c)
  c.sweep.lr = '(0.1,fast)'
  with pytest.raises(errors.ConfigError, match=r"config\.sweep\.lr: got the text '\(0.1,fast\)'"):
    config_lib.validate(c)


# --- numbers that do not move with the chunk size ----------------------------------------------------

@pytest.mark.parametrize('name,preset', [('init_scale_heatmap', 'small'), ('tfm_fig1', 'small')])
def test_a_grid_is_bitwise_equal_across_chunk_sizes(name, preset):
  """The same runs as one call of 4 a chunk, and as chunks of 3 (a call padded with a repeated run,
  and a run in another position of its call): before call widths, each chunk was one call of its size."""
  config = golden.narrow(golden.reduced(golden.load_config(name, preset)), layers=1)  # positions in a call, not depth
  for axis, values in config_lib.sweep_axes(config):
    config.sweep[axis] = tuple(range(6)) if axis == 'seed' else tuple(values[-1:])
  plan, whole = sweep.run_sweep(config, chunk_size=4, call_width=4)
  assert plan.runs_per_subgrid == 6
  for chunk_size in (3,):
    other_plan, other = sweep.run_sweep(config, chunk_size=chunk_size, call_width=4)
    assert other_plan.call_width == 4 and other_plan.chunk_size == chunk_size
    for metric in whole:
      np.testing.assert_array_equal(other[metric], whole[metric], err_msg=f'{metric} at chunks of {chunk_size}')


def test_chunks_are_clipped_to_the_runs_a_kernel_has():
  c = config_lib.load(os.path.join(ROOT, 'sweeps', 'init_scale_heatmap.py:small'))  # 648 runs, one kernel
  plan = sweep.make_plan(c, chunk_size=6480)
  assert plan.chunk_size == plan.runs_per_subgrid == 648 and plan.num_chunks == 1
  plan = sweep.make_plan(c, chunk_size=100000, call_width=100000)
  assert plan.call_width < 648 + plan.num_devices and plan.num_chunks == 1


def test_a_replan_at_another_call_width_says_the_numbers_may_differ(tmp_path):
  cli(tmp_path, *SHORT, '--chunk_size=4', '--shard=0/3', '--quiet')
  log = cli(tmp_path, *SHORT, '--replan', '--config.engine.call_width=2', '--chunk_size=2')
  assert 'computed 2 runs per kernel call, the finished ones were 12' in log and 'last bits' in log


def test_a_small_explicit_chunk_says_what_its_padding_costs(tmp_path):
  log = cli(tmp_path, *SHORT, '--chunk_size=5')
  assert 'chunks of 5 runs are computed 12 runs per kernel call' in log and 'wastes nothing' in log


# --- every bad size and count, from the command line and from sslgap.run, in the same words ------------

BAD_OPTIONS = [
    (['--chunk_size=-1'], dict(chunk_size=-1), 'chunk_size must be a positive integer, got -1'),
    (['--shard=3/2'], dict(shard=(3, 2)), 'shard 3/2: need 0 <= i < N'),
    (['--memory_budget=-5GB'], dict(memory_budget='-5GB'), "memory_budget must be a positive size, got '-5GB'"),
    (['--memory_budget=1e400GB'], dict(memory_budget='1e400GB'), "memory_budget must be a finite size"),
    (['--memory_budget=1KB'], dict(memory_budget='1KB'), 'memory_budget: 1 kB per device holds no run'),
    (['--max_chunks=-1'], dict(max_chunks=-1), 'max_chunks must be a non-negative integer, got -1'),
]


@pytest.mark.parametrize('flags,kwargs,message', BAD_OPTIONS, ids=[m[:24] for _, _, m in BAD_OPTIONS])
def test_a_bad_option_is_the_same_line_from_the_cli_and_sslgap_run(tmp_path, flags, kwargs, message):
  line = _one_line(run_in_process(tmp_path / 'cli', *SHORT, *flags, expect=2))
  assert line.startswith('error: ') and message in line, line
  with pytest.raises(errors.UserError) as raised:
    sslgap.run(tiny_config(), out=str(tmp_path / 'api'), progress=False, **kwargs)
  assert str(raised.value) == line[len('error: '):]
  assert not os.path.exists(tmp_path / 'api' / 'chunks' / 'plan.json')  # nothing written for a bad option


@pytest.mark.parametrize('kwargs,message', [
    (dict(chunk_size=0), 'chunk_size must be a positive integer, got 0'),
    (dict(shard='x'), "shard must look like i/N (for example 0/4), got 'x'"),
    (dict(memory_budget='lots'), "memory_budget must be a size like '60GB' or '512MiB', got 'lots'"),
    (dict(fresh=True, replan=True), 'fresh and replan: choose one'),
    (dict(keep_chunks='yes'), "keep_chunks must be True or False, got 'yes'"),
])
def test_sslgap_run_checks_every_option_before_anything_is_written(tmp_path, kwargs, message):
  with pytest.raises(errors.OptionError, match=re.escape(message)):
    sslgap.run(tiny_config(), out=str(tmp_path), progress=False, **kwargs)
  assert not os.listdir(tmp_path)


def test_sslgap_run_names_a_config_that_is_not_one():
  with pytest.raises(errors.UserError, match="a config is a ConfigDict or 'path/to/config.py"):
    sslgap.run(42)
  with pytest.raises(errors.OptionError, match="unknown option 'chunksize'"):
    sslgap.run(os.path.join(ROOT, 'sweeps', 'init_scale_heatmap.py:small'), chunksize=4)


# --- one line where a traceback was --------------------------------------------------------------

CONFIG_FILES = {
    'raises.py': ('def get_config(arg=None):\n  raise ValueError("no such preset")\n',
                  "raises.py: get_config(None) failed: ValueError: no such preset"),
    'syntax.py': ('def get_config(arg=None)\n  return 1\n', "syntax.py, line 1: SyntaxError"),
    'no_function.py': ('x = 1\n', 'no_function.py has no get_config(arg) function'),
    'returns_none.py': ('def get_config(arg=None):\n  pass\n', 'returned NoneType, not an ml_collections.ConfigDict'),
    'bad_import.py': ('import no_such_module_here\n', "failed to import: ModuleNotFoundError"),
}


@pytest.mark.parametrize('name', sorted(CONFIG_FILES))
def test_a_config_file_that_fails_is_one_line_naming_it(tmp_path, name):
  text, message = CONFIG_FILES[name]
  (tmp_path / name).write_text(text)
  with pytest.raises(errors.ConfigFileError, match=re.escape(message)):
    config_lib.load(str(tmp_path / name))
  if name in ('syntax.py', 'returns_none.py'):  # the command line says the same (its other cases share the loader)
    stderr = script_in_process('experiments/learning_curves.py', f'--config={tmp_path / name}')
    assert message in _one_line(stderr), stderr


def test_a_config_that_is_not_python_is_one_line():
  stderr = script_in_process('experiments/learning_curves.py', '--config=README.md')
  assert 'README.md: not a config file' in _one_line(stderr)


@pytest.mark.parametrize('platform', ['bogus', 'cuda'])
def test_a_platform_jax_cannot_start_is_one_line_naming_it(tmp_path, platform):
  done = subprocess.run(cli_command(tmp_path, *SHORT), cwd=ROOT, env=dict(env(), JAX_PLATFORMS=platform),
                        capture_output=True, text=True)
  assert done.returncode == 2, done.stderr
  assert f"JAX cannot start JAX_PLATFORMS='{platform}'" in _one_line(done.stderr)


def test_launching_on_slurm_without_slurm_is_one_line(tmp_path):
  pytest.importorskip('submitit')
  stderr = run_in_process(tmp_path, *SHORT, '--launcher=slurm', expect=2,)
  assert 'no Slurm on this machine' in _one_line(stderr)


@pytest.mark.parametrize('delay', [0.4, 1.2])
def test_ctrl_c_while_starting_up_stops_with_one_line(tmp_path, delay):
  process = cli(tmp_path, *SHORT, wait=False)
  time.sleep(delay)
  process.send_signal(signal.SIGINT)
  _, stderr = process.communicate()
  assert process.returncode == 128 + signal.SIGINT, stderr
  assert 'Traceback' not in stderr and 'nterrupted' in stderr.strip().splitlines()[-1], stderr
  assert not os.path.exists(tmp_path / 'init_scale_heatmap.npz')


def test_reading_what_is_not_a_grid_says_what_it_is(tmp_path):
  png = tmp_path / 'figure.png'
  png.write_bytes(b'\x89PNG\r\n\x1a\n' + b'\0' * 64)
  with pytest.raises(errors.ResultsError, match='figure.png is a PNG image, not an sslgap result grid'):
    results.load(png)
  _, stderr = module_in_process('sslgap.show', png, expect=2)
  assert 'is a PNG image' in _one_line(stderr)
  (tmp_path / 'run').mkdir()
  (tmp_path / 'run' / 'g.npz').write_bytes(b'')
  _, stderr = module_in_process('sslgap.show', tmp_path / 'run', expect=2)
  assert 'is a folder: give the grid inside it, e.g.' in _one_line(stderr)
  _, stderr = module_in_process('sslgap.status', png, expect=2)
  assert 'is a file, not a sweep folder' in _one_line(stderr)


def _grid_with_config(tmp_path, config_json, config_hash=None):
  path = tmp_path / 'g.npz'
  info = {'config_hash': config_hash} if config_hash else {}
  results.save(str(path), [('seed', [0, 1])], [0, 10], {'test_loss': np.ones((2, 2), np.float32)}, config_json,
               **info)
  return path


def test_a_grid_whose_config_is_not_an_object_or_was_edited_is_named(tmp_path):
  with pytest.raises(errors.ResultsError, match='its config_json is a JSON list'):
    results.load(_grid_with_config(tmp_path, '[1, 2]'))
  _, stderr = module_in_process('sslgap.show', tmp_path / 'g.npz', expect=2)
  assert 'its config_json is a JSON list' in _one_line(stderr)
  config = json.dumps({'name': 'g', 'hp': {'lr': 0.1}})
  edited = json.dumps({'name': 'g', 'hp': {'lr': 0.2}})
  path = _grid_with_config(tmp_path, edited, results.config_hash(config))
  with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter('always')
    results.load(path)
  assert any('does not match its config_hash' in str(w.message) for w in caught)
  _, stderr = module('sslgap.show', path, '--no_figure')
  assert 'warning: ' in stderr and 'does not match its config_hash' in stderr


def test_a_figure_that_cannot_be_written_names_its_file(tmp_path, monkeypatch):
  import errno
  from matplotlib.figure import Figure

  from sslgap import plotting

  def full(self, *args, **kwargs):
    raise OSError(errno.ENOSPC, 'No space left on device')

  monkeypatch.setattr(Figure, 'savefig', full)
  with pytest.raises(errors.FileError, match=r'fig\.png: cannot write \(No space left on device\)'):
    plotting.save(Figure(), str(tmp_path / 'fig.png'))
  assert not os.listdir(tmp_path)  # no half-written file or temporary left


def test_the_per_chunk_eta_counts_computing_not_compiling(tmp_path):
  log = cli(tmp_path, *LONGER, '--quiet')
  first = next(line for line in log.splitlines() if line.startswith('chunk '))
  seconds, eta = re.search(r'1 runs in ([\d.]+) s .* ETA ([\d.]+) s', first).groups()
  assert float(eta) == pytest.approx(11 * float(seconds), rel=0.05, abs=0.2), first


# --- the report command --------------------------------------------------------------------------

def test_reproduce_names_an_empty_only_and_writes_partial_reports_beside_the_grids():
  _, stderr = module_in_process('sslgap.reproduce', '--only', '', expect=2)
  assert '--only: give experiment ids' in _one_line(stderr)
  assert reproduce.default_report('small', 'results', False) == 'docs/REPRODUCTION.md'
  assert reproduce.default_report('small', 'results/', False) == 'docs/REPRODUCTION.md'
  assert reproduce.default_report('small', 'results', True) == os.path.join('results', 'small', 'REPORT.md')
  assert reproduce.default_report('medium', '/scratch', False) == os.path.join('/scratch', 'medium', 'REPORT.md')


def test_a_signal_to_the_report_reaches_the_experiment_it_runs(tmp_path):
  """SIGTERM to the parent is passed on: the child stops cleanly, and nothing is left running."""
  marker = tmp_path / 'child'
  child = (f'import signal, sys, time, os\nopen({str(marker)!r}, "w").write(str(os.getpid()))\n'
           f'signal.signal(signal.SIGTERM, lambda *a: (open({str(marker)!r} + ".stopped", "w").close(), sys.exit(143)))\n'
           'time.sleep(60)\n')
  parent = ('import sys\nfrom sslgap import stopping\n'
            'try:\n  stopping.run_forwarding_signals([sys.executable, "-c", sys.argv[1]])\n'
            'except stopping.Interrupted as e:\n  sys.exit(128 + e.signum)\n')
  process = subprocess.Popen([sys.executable, '-c', parent, child], cwd=ROOT, env=env())
  wait_until(marker.exists, process, 'the child started')
  time.sleep(0.2)
  process.send_signal(signal.SIGTERM)
  assert process.wait() == 128 + signal.SIGTERM
  assert os.path.exists(str(marker) + '.stopped')
  with pytest.raises(ProcessLookupError):
    os.kill(int(marker.read_text()), 0)


# --- a grid of a billion runs --------------------------------------------------------------------

def test_a_billion_run_grid_is_planned_and_rehearsed_without_listing_its_chunks(tmp_path):
  """Planning, the bar and the rehearsal's projection count chunks per group, never one by one: the
  250 million chunks of this grid would take minutes and gigabytes to list."""
  config = tiny_config()
  values = tuple(float(1 + i / 1000) for i in range(1000))
  config.sweep.init_scale_first, config.sweep.init_scale_rest = values, values
  config.sweep.seed, config.sweep.dataset_size = tuple(range(1000)), (32,)
  config.engine.call_width = 4
  plan = sweep.make_plan(config)
  assert plan.num_runs == 10**9 and 'a large grid: its merged .npz will hold' in plan.describe()
  summary = runner.run_to_folder(config, str(tmp_path), runner.Options(max_chunks=1, progress=False))
  assert summary.chunks_run == 1 and summary.projection.total_seconds > 0
  assert json.load(open(tmp_path / 'rehearsal.json'))['chunks'] == 250_000_000


def test_a_flag_given_twice_is_refused():
  """config_flags would join two tuples given for one key ((0, 1) and (5, 6) become four seeds)."""
  done = subprocess.run(cli_command('/tmp/unused', '--config.sweep.seed=(0,1)', '--config.sweep.seed=(5,6)',
                                    '--dry_run'), cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.returncode == 2 and '--config.sweep.seed is given twice' in _one_line(done.stderr)
