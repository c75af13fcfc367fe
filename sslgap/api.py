"""The notebook API: sslgap.run(config) -> Results, the same engine and folder rules as the scripts.

  import sslgap
  r = sslgap.run('sweeps/fig1_parity.py:small')            # or a ConfigDict you built
  r.mean('seed').final('test_acc'); r.to_xarray(); r.to_dataframe()
"""

import os

import ml_collections

from sslgap import config as config_lib
from sslgap import results as results_lib
from sslgap import runner
from sslgap.errors import ConfigFileError, StoreError


def run(config, out=None, progress=True, **options):
  """Runs the config's sweep into `out` (default results/<config.name>), resuming from the chunks
  there, and returns its grid. options are sslgap.runner.Options fields (chunk_size, fresh, ...);
  a bad one raises OptionError in the words the command line uses."""
  if isinstance(config, (str, os.PathLike)):
    config = config_lib.load(config)
  elif not isinstance(config, ml_collections.ConfigDict):
    raise ConfigFileError(f"a config is a ConfigDict or 'path/to/config.py[:preset]', got {type(config).__name__}")
  options = runner.options_from(progress=progress, **options)
  out = os.fspath(out) if out else os.path.join('results', config.name)
  summary = runner.run_to_folder(config, out, options)
  if summary.stopped_by:
    raise KeyboardInterrupt(f'interrupted: the finished chunks are saved in {out}; run again to resume')
  if summary.folder_changed:
    raise StoreError(summary.folder_changed)
  if summary.path is None:
    raise StoreError(f'{out} is not complete yet (other shards or processes hold its remaining chunks)')
  return results_lib.load(summary.path)
