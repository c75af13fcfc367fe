"""Cluster launch with submitit: every shard of a sweep is one task of a job array.

  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py \\
      --launcher=slurm --shards=16 --slurm_partition=gpu --out=results/fig6

Each task runs `--shard i/N` of the same folder (a shared filesystem). Preemption and time
limits: Slurm sends SIGTERM when it preempts a job and SIGUSR2 (submitit's signal, sent
--signal_delay_s before the time limit); whichever comes first, the shard finishes and saves
the chunk it is computing, then asks submitit to requeue it (submitit's checkpoint
mechanism), and the requeued task resumes from the chunk files. A chunk that would outlast the
grace period is recomputed whole, so keep a chunk's time (see --max_chunks) below it.
JAX's persistent compilation cache lives in <out>/jax_cache, so requeued shards skip compiling.
`--launcher=local` runs the shards as local processes (what the tests use).
"""

import dataclasses
import logging
import os
import shutil
import signal

from sslgap.engine import runner
from sslgap.folder import Folder
from sslgap.errors import OptionError

log = logging.getLogger('sslgap')
PREEMPTION_SIGNALS = (signal.SIGTERM, signal.SIGUSR2, signal.SIGINT)


def use_compilation_cache(folder):
  import jax
  jax.config.update('jax_compilation_cache_dir', folder)
  jax.config.update('jax_persistent_cache_min_compile_time_secs', 0.0)


class ShardJob:
  """One shard as a submitit callable; on preemption or timeout it requeues itself and resumes."""

  def __call__(self, config, out, index, count, options, compilation_cache=None):
    logging.basicConfig(level=logging.INFO, format='%(message)s')
    use_compilation_cache(compilation_cache or os.path.join(out, 'jax_cache'))
    requeue = signal.getsignal(signal.SIGUSR2)  # submitit's checkpoint-and-requeue handler, in a job
    options = runner.Options(**dict(vars(options), shard=(index, count), progress=False,
                                    stop_signals=PREEMPTION_SIGNALS, abandon_on_second_signal=False))
    summary = runner.run_to_folder(config, out, options)
    if summary.stopped_by and callable(requeue):
      log.warning('shard %d/%d stopped by %s after saving its chunks: requeueing', index, count,
                  signal.Signals(summary.stopped_by).name)
      requeue(summary.stopped_by, None)  # checkpoint() below, then the requeue; exits the process
    return str(summary)

  def checkpoint(self, *args, **kwargs):
    import submitit
    return submitit.helpers.DelayedSubmission(self, *args, **kwargs)


def launch(config, out, shards, cluster, options, partition=None, timeout_min=240, gpus_per_node=1,
           signal_delay_s=120, max_timeouts=20, compilation_cache=None):
  """Submits the shards, waits for them, merges; returns the .npz path.

  --fresh and --replan act once, here, before any shard starts (a requeued shard must not repeat
  them); a preempted shard is requeued any number of times, a timed-out one max_timeouts times."""
  try:
    import submitit
  except ImportError:
    raise OptionError("--launcher needs submitit: pip install -e '.[cluster]'") from None
  if cluster == 'slurm' and not shutil.which('sbatch'):
    raise OptionError('--launcher=slurm: no Slurm on this machine (sbatch is not on the PATH); run it on a Slurm '
                      'login node, or try the shards here with --launcher=local')
  _, record, _, complete = runner.prepare_folder(config, out, options)
  if complete:
    return Folder(out).merged_path(record)
  options = dataclasses.replace(options, fresh=False, replan=False, max_chunks=0)
  executor = submitit.AutoExecutor(folder=os.path.join(out, 'submitit'), cluster=cluster)
  params = dict(timeout_min=timeout_min, name=f'sslgap-{config.name}')
  if cluster == 'slurm':
    params.update(gpus_per_node=gpus_per_node, slurm_array_parallelism=shards, slurm_signal_delay_s=signal_delay_s,
                  slurm_max_num_timeout=max_timeouts)
    if partition:
      params['slurm_partition'] = partition
  executor.update_parameters(**params)
  job = ShardJob()
  jobs = executor.map_array(job, [config] * shards, [out] * shards, list(range(shards)), [shards] * shards,
                            [options] * shards, [compilation_cache] * shards)
  log.warning('submitted %d shard job(s): %s', shards, ', '.join(j.job_id for j in jobs))
  for j in jobs:
    log.info('shard %s: %s', j.job_id, j.result())
  path, diverged = Folder(out).merge(keep_chunks=options.keep_chunks)
  log.warning('merged %d shard(s) into %s (%d diverged run(s))', shards, path, len(diverged))
  return path
