"""The notebook API: sslgap.run(config) -> Results, the same engine and folder rules as the scripts.

  import sslgap
  r = sslgap.run('sweeps/fig1_parity.py:small')            # or a ConfigDict you built
  r.mean('seed').final('test_acc'); r.to_xarray(); r.to_dataframe()
"""

import os

from sslgap import config as config_lib
from sslgap import results as results_lib
from sslgap import runner


def run(config, out=None, progress=True, **options):
  """Runs the config's sweep into `out` (default results/<config.name>), resuming from the chunks
  there, and returns its grid. options are sslgap.runner.Options fields (chunk_size, fresh, ...)."""
  if isinstance(config, (str, os.PathLike)):
    config = config_lib.load(config)
  out = out or os.path.join('results', config.name)
  summary = runner.run_to_folder(config, out, runner.Options(progress=progress, **options))
  if summary.stopped_by:
    raise KeyboardInterrupt(f'interrupted: the finished chunks are saved in {out}; run again to resume')
  if summary.path is None:
    raise RuntimeError(f'{out} is not complete yet (other shards or processes hold its remaining chunks)')
  return results_lib.load(summary.path)
