"""Cluster launch with submitit: every shard of a sweep is one task of a job array.

  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py \
      --launcher=slurm --shards=16 --slurm_partition=gpu --out=results/fig6

Each task runs `--shard i/N` of the same folder (a shared filesystem), resumes from its own
finished chunks if it is requeued, and the submitting process merges when all are done.
`--launcher=local` runs the shards as local processes (what the tests use).
"""

import logging
import os

from sslgap import runner
from sslgap import store

log = logging.getLogger('sslgap')


class ShardJob:
  """One shard as a submitit callable; on preemption submitit resubmits it and it resumes."""

  def __call__(self, config, out, index, count, chunk_size, memory_budget):
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    summary = runner.run_to_folder(config, out, chunk_size, memory_budget, (index, count), progress=False)
    return str(summary)

  def checkpoint(self, *args, **kwargs):
    import submitit
    return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def launch(config, out, shards, cluster, chunk_size=None, memory_budget=None, partition=None,
           timeout_min=240, gpus_per_node=1):
  """Submits the shards, waits for them, merges; returns the .npz path."""
  try:
    import submitit
  except ImportError:
    raise ImportError("--launcher needs submitit: pip install -e '.[cluster]'") from None
  executor = submitit.AutoExecutor(folder=os.path.join(out, 'submitit'), cluster=cluster)
  params = dict(timeout_min=timeout_min, name=f'sslgap-{config.name}')
  if cluster == 'slurm':
    params.update(gpus_per_node=gpus_per_node, slurm_array_parallelism=shards)
    if partition:
      params['slurm_partition'] = partition
  executor.update_parameters(**params)
  job = ShardJob()
  count = list(range(shards))
  jobs = executor.map_array(job, [config] * shards, [out] * shards, count, [shards] * shards,
                            [chunk_size] * shards, [memory_budget] * shards)
  log.warning('submitted %d shard job(s): %s', shards, ', '.join(j.job_id for j in jobs))
  for j in jobs:
    log.info('shard %s: %s', j.job_id, j.result())
  path, diverged = store.merge(out)
  log.warning('merged %d shard(s) into %s (%d diverged run(s))', shards, path, len(diverged))
  return path
