"""Running a sweep into a folder: shards, resume, clean interruption, progress and a summary."""

import dataclasses
import logging
import os
import signal
import time

import jax
from tqdm import tqdm

import sslgap
from sslgap import config as config_lib
from sslgap import store
from sslgap import sweep

log = logging.getLogger('sslgap')


@dataclasses.dataclass
class Summary:
  chunks_run: int = 0
  chunks_skipped: int = 0
  runs: int = 0
  run_steps: int = 0
  compile_count: int = 0
  compile_seconds: float = 0.0
  run_seconds: float = 0.0
  diverged: int = 0
  path: str = None  # the merged .npz, once every chunk is done
  stopped_by: int = 0  # the signal that interrupted the sweep, 0 if none

  def __str__(self):
    rate = self.runs / self.run_seconds if self.run_seconds else 0.0
    return (f'{self.runs:,} runs in {self.chunks_run} chunk(s) ({self.chunks_skipped} already done): '
            f'{self.run_seconds:.1f} s running ({rate:,.0f} runs/s, '
            f'{self.run_steps / max(self.run_seconds, 1e-9):,.0f} run-steps/s), '
            f'{self.compile_seconds:.1f} s compiling {self.compile_count} kernel(s); '
            f'{self.diverged} diverged run(s)')


class _StopOnSignal:
  """First SIGINT/SIGTERM: finish the current chunk, then stop. Second: leave at once."""

  def __init__(self):
    self.signum = 0

  def __enter__(self):
    self._previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
    return self

  def _handle(self, signum, frame):
    if self.signum:
      os._exit(128 + signum)  # finished chunks are on disk; the current one is abandoned
    self.signum = signum
    log.warning('%s received: finishing the current chunk, then stopping (again to abandon it)',
                signal.Signals(signum).name)

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)


def parse_shard(text):
  """'i/N' -> (i, N), with 0 <= i < N."""
  try:
    index, count = (int(v) for v in str(text).split('/'))
  except ValueError:
    raise ValueError(f'--shard must look like i/N (for example 0/4), got {text!r}') from None
  if not 0 <= index < count:
    raise ValueError(f'--shard {text}: need 0 <= i < N')
  return index, count


def run_to_folder(config, out, chunk_size=None, memory_budget=None, shard=(0, 1), fresh=False,
                  progress=True):
  """Runs this shard's unfinished chunks into `out`; merges the grid when every chunk is done."""
  plan = sweep.make_plan(config, chunk_size, memory_budget)
  if fresh:
    store.discard(out)
  config_json = config_lib.to_json(config)
  info = dict(sslgap_version=sslgap.__version__, jax_version=jax.__version__,
              device_kind=jax.devices()[0].device_kind)
  record = store.open_plan(out, store.plan_record(config.name, config_json, plan.axes, plan.eval_steps,
                                                  plan.chunk_size, plan.num_chunks, info))
  if record['chunk_size'] != plan.chunk_size:
    if chunk_size:
      raise store.StoreError(f'{out} was started with chunks of {record["chunk_size"]} runs, not {chunk_size}; '
                             'resume without --chunk_size, or use --fresh')
    plan = sweep.make_plan(config, record['chunk_size'], memory_budget)
  for line in plan.describe().splitlines():
    log.info(line)
  index, count = shard
  finished = store.finished_chunks(out)
  mine = [c for c in range(plan.num_chunks) if c % count == index]
  todo = [c for c in mine if c not in finished]
  summary = Summary(chunks_skipped=len(mine) - len(todo))
  executor = sweep.Executor(plan)
  hash_ = record['config_hash']
  bar = tqdm(total=sum(len(plan.chunk(c)[1]) for c in todo), unit='run', unit_scale=True,
             disable=not progress, smoothing=0.1)
  with _StopOnSignal() as stop, bar:
    for chunk_id in todo:
      if stop.signum:
        break
      compile_before = executor.compile_seconds
      start = time.perf_counter()
      metrics, positions = executor.run_chunk(chunk_id)
      store.write_chunk(out, chunk_id, positions, metrics, hash_)
      summary.run_seconds += time.perf_counter() - start - (executor.compile_seconds - compile_before)
      summary.chunks_run += 1
      summary.runs += len(positions)
      summary.run_steps += len(positions) * config.train.steps
      summary.diverged += store.diverged_runs(metrics)
      bar.update(len(positions))
      bar.set_postfix(chunks=f'{summary.chunks_run}/{len(todo)}',
                      run_steps_per_s=f'{summary.run_steps / max(summary.run_seconds, 1e-9):.3g}')
  summary.compile_count, summary.compile_seconds = executor.compile_count, executor.compile_seconds
  summary.stopped_by = stop.signum
  log.info('%s', summary)
  if stop.signum:
    log.warning('Interrupted: %d of %d chunk(s) of this shard are saved in %s. Rerun the same command '
                'to resume from them.', len(mine) - len(todo) + summary.chunks_run, len(mine), out)
    return summary
  if len(store.finished_chunks(out)) >= plan.num_chunks:
    summary.path, diverged = store.merge(out)
    log.info('merged %d chunk(s) into %s', plan.num_chunks, summary.path)
    if diverged:
      log.warning('%d run(s) in the grid diverged (NaN), for example %s', len(diverged), diverged[:3])
  else:
    log.info('shard %d/%d done; other shards still have chunks to run. When all are done: '
             'python -m sslgap.merge %s (or rerun this command without --shard)', index, count, out)
  return summary
