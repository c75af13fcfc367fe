"""The notebook API: sslgap.run(config) -> Results, the same engine, folder rules, log and figure as
the scripts.

  import sslgap
  r = sslgap.run('sweeps/fig1_parity.py:small')            # or a ConfigDict you built
  r.folder                                                 # where its chunks, grid and figure are
  sslgap.plot(r)                                           # its figure (a matplotlib Figure)
  r.mean('seed').final('test_acc'); r.to_xarray(); r.to_dataframe()
"""

import contextlib
import logging
import os
import sys

import ml_collections

from sslgap.setup import config as config_lib
from sslgap.science import results as results_lib
from sslgap.engine import runner
from sslgap.errors import ConfigFileError, StoreError

log = logging.getLogger('sslgap')


def run(config, out=None, progress=True, quiet=False, figure_format='png', **options):
  """Runs the config's sweep into `out` (default results/<config.name>), resuming from the chunks
  there, writes its figure beside the grid (as the scripts do) and returns its grid, whose `folder`
  is `out`. The plan, compile times and summary are logged to stderr (quiet=True: warnings only)
  unless the session has set up logging itself. options are sslgap.runner.Options fields
  (chunk_size, fresh, ...); a bad one raises OptionError in the words the command line uses."""
  if isinstance(config, (str, os.PathLike)):
    config = config_lib.load(config)
  elif not isinstance(config, ml_collections.ConfigDict):
    raise ConfigFileError(f"a config is a ConfigDict or 'path/to/config.py[:preset]', got {type(config).__name__}")
  options = runner.options_from(progress=progress, **options)
  out = os.fspath(out) if out else os.path.join('results', config.name)
  with _logging_to_stderr(logging.WARNING if quiet else logging.INFO):
    summary = runner.run_to_folder(config, out, options)
    if summary.stopped_by:
      raise KeyboardInterrupt(f'interrupted: the finished chunks are saved in {out}; run again to resume')
    if summary.folder_changed:
      raise StoreError(summary.folder_changed)
    if summary.path is None:
      raise StoreError(f'{out} is not complete yet (other shards or processes hold its remaining chunks)')
    grid = results_lib.load(summary.path)
    try:
      write_figure(config, grid, os.path.join(out, f'{config.name}.{figure_format}'))
    except Exception as e:  # noqa: BLE001 - the grid is the result; a figure that cannot be drawn is said
      log.warning('could not draw the figure of %s: %s: %s', summary.path, type(e).__name__, e)
  return grid


def write_figure(config, grid, figure):
  """Draws a finished grid's figure by this config's plot section (which changes no result, so it may
  differ from the one stored in the grid) and writes it."""
  plot = config_lib.section_json(config, 'plot')
  path = grid.path
  if grid.config.get('plot') != plot:
    log.warning('the figure follows this command\'s config.plot, which differs from the one stored in %s', path)
    grid = grid.with_plot(plot)
  # matplotlib is 0.4 s of a command's start (importing it): only a command that draws pays it.
  from sslgap.science import plotting  # noqa: PLC0415
  plotting.save(plotting.draw(grid), figure)
  log.warning('wrote %s and %s', path, figure)


def load(path):
  """The grid of an .npz (or of a sweep folder: its merged grid)."""
  if os.path.isdir(path):
    grids = sorted(p for p in os.listdir(path) if p.endswith('.npz'))
    if len(grids) != 1:
      raise results_lib.ResultsError(f'{path}: a sweep folder holds one merged .npz; found {grids or "none"}')
    path = os.path.join(path, grids[0])
  return results_lib.load(path)


def plot(results, metric=None, out=None):
  """The figure a grid's config asks for (metric replaces its metric), written to `out` if given."""
  from sslgap.science import plotting  # noqa: PLC0415 - as write_figure
  fig = plotting.draw(results, metric=metric)
  if out:
    plotting.save(fig, os.fspath(out))
  return fig


@contextlib.contextmanager
def _logging_to_stderr(level):
  """The engine's log at `level` on stderr, as the scripts print it, unless the session has set up
  logging itself (then its handlers and levels decide)."""
  if logging.getLogger().handlers or log.handlers:
    yield
    return
  handler = logging.StreamHandler(sys.stderr)
  handler.setFormatter(logging.Formatter('%(message)s'))
  previous = log.level
  log.addHandler(handler)
  log.setLevel(level)
  try:
    yield
  finally:
    log.setLevel(previous)
    log.removeHandler(handler)
