"""Running a sweep into a folder: shards, leases, resume, clean interruption, progress, rehearsal.

Any number of processes may run into one folder: each chunk is leased before it is computed,
so processes on the same shard split its chunks instead of repeating them, and whichever
finishes the last chunk merges the grid.
"""

import dataclasses
import json
import logging
import os
import signal
import threading
import time

import jax
from tqdm import tqdm

import sslgap
from sslgap import command
from sslgap import config as config_lib
from sslgap import files
from sslgap import memory
from sslgap import rehearse
from sslgap import store
from sslgap import sweep

log = logging.getLogger('sslgap')
BUSY_POLL_S = 1.0  # how often a process that has nothing left looks at the chunks others compute
progress_log = logging.getLogger('sslgap.progress')  # one line per chunk when there is no bar


@dataclasses.dataclass
class Options:
  """How to run a sweep into a folder (the experiment scripts' engine flags)."""

  chunk_size: int = None
  memory_budget: str = None
  shard: tuple = (0, 1)
  fresh: bool = False
  replan: bool = False
  keep_chunks: bool = False
  max_chunks: int = 0  # > 0: a rehearsal of this many chunks, then the projected wall time
  projected_shards: int = 1  # shards to project a rehearsal's wall time for
  progress: bool = True  # a progress bar; else one log line per chunk
  stop_signals: tuple = (signal.SIGINT, signal.SIGTERM)
  abandon_on_second_signal: bool = True


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
  busy_elsewhere: list = dataclasses.field(default_factory=list)  # chunks other processes hold
  damaged: list = dataclasses.field(default_factory=list)  # chunk files set aside and recomputed
  splits: int = 0  # chunks run in halves after running out of device memory
  projection: object = None  # a rehearsal's rehearse.Projection
  timings: dict = dataclasses.field(default_factory=dict)  # kernel id -> rehearse.KernelTiming

  def __str__(self):
    rate = self.runs / self.run_seconds if self.run_seconds else 0.0
    text = (f'{self.runs:,} runs in {self.chunks_run} chunk(s) ({self.chunks_skipped} already done): '
            f'{self.run_seconds:.1f} s running ({rate:,.0f} runs/s, '
            f'{self.run_steps / max(self.run_seconds, 1e-9):,.0f} run-steps/s), '
            f'{self.compile_seconds:.1f} s compiling {self.compile_count} kernel(s); '
            f'{self.diverged} diverged run(s)')
    if self.busy_elsewhere:
      text += f'; {len(self.busy_elsewhere)} chunk(s) being computed by other processes'
    return text


class _StopOnSignal:
  """First signal: finish (and save) the current chunk, then stop. A second one, if
  abandon_on_second, abandons the chunk at once (on_abandon runs first), unless it was computed
  already and is being written: then it is written, and the process exits.

  Python runs signal handlers only between bytecodes, so while XLA computes a chunk they would
  wait for it; a thread that reads signal.set_wakeup_fd sees each signal when it arrives.
  """

  def __init__(self, signals, abandon_on_second, on_abandon=None):
    self.signals, self.abandon_on_second, self.on_abandon = tuple(signals), abandon_on_second, on_abandon
    self.signum = 0
    self._lock = threading.Lock()
    self._protected = False
    self._exit_after_write = 0

  def __enter__(self):
    self._previous, self._pipe = {}, None
    if threading.current_thread() is not threading.main_thread():
      return self  # only the main thread may handle signals: a run in another thread keeps the defaults
    self._previous = {s: signal.signal(s, self._handle) for s in self.signals}
    if self.abandon_on_second:
      read, write = os.pipe()
      os.set_blocking(write, False)
      self._pipe, self._old_fd = (read, write), signal.set_wakeup_fd(write)
      threading.Thread(target=self._watch, daemon=True).start()
    return self

  def _handle(self, signum, frame):
    if self._pipe is None:  # no watcher thread: count it here
      self._note(signum)

  def _watch(self):
    while True:
      try:
        data = os.read(self._pipe[0], 1)
      except OSError:
        return
      if not data:
        return
      if data[0] in self.signals:
        self._note(data[0])

  def _note(self, signum):
    with self._lock:
      first = not self.signum
      if first:
        self.signum = signum
      elif self._protected:
        self._exit_after_write = signum
    if first:
      log.warning('%s received: finishing the current chunk, then stopping%s', signal.Signals(signum).name,
                  ' (again to abandon it)' if self.abandon_on_second else '')
    elif self.abandon_on_second and not self._exit_after_write:
      self._leave(signum)

  def _leave(self, signum):
    log.warning('%s received again: abandoning the current chunk; the saved ones stay', signal.Signals(signum).name)
    if self.on_abandon:
      self.on_abandon()
    os._exit(128 + signum)

  def protect(self):
    """From here until done_writing(), a computed chunk is saved before any exit."""
    with self._lock:
      self._protected = True

  def done_writing(self):
    with self._lock:
      self._protected, leave = False, self._exit_after_write
    if leave:
      self._leave(leave)

  def __exit__(self, *exc):
    for s, handler in self._previous.items():
      signal.signal(s, handler)
    if self._pipe:
      signal.set_wakeup_fd(self._old_fd)
      for fd in self._pipe:
        os.close(fd)


def parse_shard(text):
  """'i/N' -> (i, N), with 0 <= i < N."""
  try:
    index, count = (int(v) for v in str(text).split('/'))
  except ValueError:
    raise ValueError(f'--shard must look like i/N (for example 0/4), got {text!r}') from None
  if not 0 <= index < count:
    raise ValueError(f'--shard {text}: need 0 <= i < N (shards are numbered from 0)')
  return index, count


def _device_info():
  return dict(sslgap_version=sslgap.__version__, jax_version=jax.__version__,
              device_kind=jax.devices()[0].device_kind)


def _folder_plan(config, out, record, plan, options):
  """(plan, record, layout number) of the folder: its active chunk layout, or a new one (replan)."""
  number = len(record['layouts']) - 1
  active = record['layouts'][-1]
  if options.replan:
    busy = store.live_leases(out)
    if busy:
      raise store.StoreError(f'{out}: other processes are computing {len(busy)} chunk(s) (for example {busy[0]}); '
                             'stop them before --replan')
    _, done, _ = store.gather(out, record)
    layout = plan.layout_of_missing(done)
    record = store.add_layout(out, record, store.layout_record(plan.chunk_size, len(layout[0]), plan.device), *layout)
    log.warning('replanned %s: %d run(s) still missing, in %d chunk(s) of up to %d runs', out, int((~done).sum()),
                len(layout[0]), plan.chunk_size)
    return plan.with_layout(layout), record, number + 1
  if options.chunk_size and options.chunk_size != active['chunk_size']:
    raise store.StoreError(f'{out} was started with chunks of {active["chunk_size"]} runs, not {options.chunk_size}; '
                           'resume without --chunk_size, add --replan to re-chunk the runs still missing, '
                           'or use --fresh')
  planned_on = active['device'].get('kind')
  if planned_on not in (plan.device['kind'], '?'):
    log.warning('%s was planned on %s (chunks of %d runs); this is %s: add --replan to re-chunk the runs still '
                'missing for this device', out, planned_on, active['chunk_size'], plan.device['kind'])
  plan = dataclasses.replace(plan, chunk_size=active['chunk_size'])
  if number:
    plan = plan.with_layout(store.read_layout(out, number))
  return plan, record, number


def _measure_chunk(executor, chunk_id, stop):
  """(metrics, positions, seconds without compiling, compile seconds, peak bytes), or None if a
  stop signal came while the chunk's kernel was compiled. From its return the chunk is protected
  from being abandoned (stop.protect) until it is written.

  Peak bytes: on a CPU the growth of the process's peak resident memory while the chunk runs (its
  data and kernel are ready before); on an accelerator the allocator's peak in use.
  """
  plan = executor.plan
  before = executor.compile_seconds
  executor.prepare(chunk_id)
  if stop.signum:
    return None
  prepared = executor.compile_seconds
  on_cpu = plan.device.get('platform') == 'cpu'
  if on_cpu:
    memory.reset_peak_rss()
    base = memory.rss_bytes()
  start = time.perf_counter()
  metrics, positions = executor.run_chunk(chunk_id)
  stop.protect()
  seconds = time.perf_counter() - start - (executor.compile_seconds - prepared)
  peak = max(memory.peak_rss_bytes() - base, 0) if on_cpu else memory.allocator_peak_bytes()
  return metrics, positions, seconds, executor.compile_seconds - before, peak


def prepare_folder(config, out, options):
  """(plan, plan record, layout number, complete) of `out` for this config: planned (or the folder's
  plan), emptied first with options.fresh, re-chunked with options.replan. Validates the config
  before anything is written."""
  existing = None if options.fresh or options.replan or not os.path.isdir(out) else store.read_plan(out)
  # A folder's chunk size is fixed: planning it again (compiling, on an accelerator) would be wasted.
  folder_chunk_size = existing['layouts'][-1]['chunk_size'] if existing else None
  plan = sweep.make_plan(config, options.chunk_size or folder_chunk_size, options.memory_budget)
  files.ensure_folder(out)
  if options.fresh:
    store.discard(out)
  config_json = config_lib.to_json(config)
  layout = store.layout_record(plan.chunk_size, plan.num_chunks, plan.device)
  record = store.open_plan(out, store.plan_record(config.name, config_json, plan.axes, plan.eval_steps, layout,
                                                  _device_info(), shards=options.shard[1]))
  if store.is_complete(out, record) and not options.max_chunks:
    return plan, record, len(record['layouts']) - 1, True
  return _folder_plan(config, out, record, plan, options) + (False,)


def run_to_folder(config, out, options=None):
  """Runs this shard's unfinished chunks into `out`; merges the grid when every chunk is done."""
  options = options or Options()
  plan, record, number, complete = prepare_folder(config, out, options)
  summary = Summary()
  if complete:
    summary.path = store.merged_paths(out, record['name'])[0]
    log.warning('%s is complete already: %s (--fresh to compute it again)', out, summary.path)
    return summary
  for line in plan.describe().splitlines():
    log.info(line)
  store.remove_stale_temporaries(out)
  index, count = options.shard
  chunks = store.ChunkIndex(out, record)
  finished = {c for _, c in chunks.finished(number)}
  mine = [c for c in range(plan.num_chunks) if c % count == index]
  todo = [c for c in mine if c not in finished]
  if options.max_chunks:
    todo = rehearse.choose_chunks(plan, todo, options.max_chunks)
  summary.chunks_skipped = len([c for c in mine if c in finished])
  executor = sweep.Executor(plan)
  timings = {}
  leases = store.Leases(out)
  stamp = store.plan_stamp(out)
  bar = tqdm(total=sum(len(plan.chunk(c)[1]) for c in todo), unit='run', unit_scale=True,
             disable=not options.progress, smoothing=0.1)
  queue, busy, waited = list(todo), [], False
  start_time = time.perf_counter()
  try:
    with _StopOnSignal(options.stop_signals, options.abandon_on_second_signal, leases.close) as stop, bar:
      while (queue or busy) and not stop.signum:
        if not queue:  # only chunks that others hold are left: wait until they are written, or free again
          waiting = [c for c in busy if not os.path.exists(store.chunk_path(out, c, number))]
          queue = [c for c in waiting if not store.lease_is_live(store.lease_path(out, number, c))]
          busy = [c for c in waiting if c not in queue]
          if not queue:
            if busy and not options.max_chunks:
              if not waited:
                log.warning('waiting for %d chunk(s) that other processes are computing', len(busy))
              waited = True
              time.sleep(BUSY_POLL_S)
              continue
            break
        chunk_id = queue.pop(0)
        if store.plan_stamp(out) != stamp:
          log.warning('%s was replanned by another process: stopping; rerun to continue with its new chunks', out)
          break
        if os.path.exists(store.chunk_path(out, chunk_id, number)) or not leases.take(number, chunk_id):
          busy.append(chunk_id)
          continue
        try:
          measured = _measure_chunk(executor, chunk_id, stop)
          if measured is None:
            break
          metrics, positions, seconds, compiled, peak = measured
          try:
            store.write_chunk(out, number, chunk_id, positions, metrics, record['config_hash'], seconds=seconds,
                              shard=f'{index}/{count}', host=store.HOST)
          finally:
            stop.done_writing()
        finally:
          leases.release(number, chunk_id)
        _count_chunk(summary, timings, plan, chunk_id, len(positions), metrics, seconds, compiled, peak)
        bar.update(len(positions))
        bar.set_postfix(chunks=f'{summary.chunks_run}/{len(todo)}',
                        run_steps_per_s=f'{summary.run_steps / max(summary.run_seconds, 1e-9):.3g}')
        if not options.progress:
          _log_chunk(chunk_id, len(positions), seconds, summary, len(todo), time.perf_counter() - start_time)
  finally:
    leases.close()
  summary.busy_elsewhere = busy
  summary.compile_count, summary.compile_seconds = executor.compile_count, executor.compile_seconds
  summary.damaged, summary.splits, summary.timings = chunks.damaged, executor.splits, timings
  summary.stopped_by = stop.signum
  log.info('%s', summary)
  if options.max_chunks and timings:
    fits = (plan.measured or sweep.measure_memory(plan, kernel_ids=set(timings)))['per_kernel']
    for kernel, timing in timings.items():
      timing.measured_bytes_per_run = fits[kernel]['per_run']
    done_now = {c for _, c in chunks.finished(number)}
    summary.projection = rehearse.project(plan, timings, options.projected_shards, done_now)
    for line in rehearse.report(plan, timings, summary.projection, options.projected_shards):
      log.warning('%s', line)
    files.write_text(os.path.join(out, 'rehearsal.json'),
                     json.dumps(rehearse.as_json(plan, timings, summary.projection), indent=1))
  elif options.max_chunks:
    log.warning('nothing to rehearse: every chunk of this shard in %s is done', out)
  if stop.signum:
    left = len([c for c in mine if c not in {c for _, c in chunks.finished(number)}])
    log.warning('Interrupted: %d chunk(s) of this shard are still to run in %s. Rerun the same command '
                'to resume from the saved ones.', left, out)
    return summary
  if len(chunks.finished(number)) >= plan.num_chunks:
    summary.path, diverged = store.merge(out, keep_chunks=options.keep_chunks)
    log.info('merged %d chunk(s) into %s', plan.num_chunks, summary.path)
    if diverged:
      log.warning('%d run(s) in the grid diverged (NaN), for example %s', len(diverged), diverged[:3])
  elif busy:
    log.warning('%d chunk(s) of this shard are being computed by other processes; the last process to '
                'finish merges the grid (or: python -m sslgap.merge %s)', len(busy), out)
  elif not options.max_chunks:
    log.info('shard %d/%d done; other shards still have chunks to run. When all are done: '
             'python -m sslgap.merge %s (or rerun this command without --shard)', index, count, out)
  return summary


def _count_chunk(summary, timings, plan, chunk_id, runs, metrics, seconds, compiled, peak):
  """Adds a finished chunk to the summary and to its kernel's timing."""
  kernel = plan.kernel_of(chunk_id)
  timing = timings.setdefault(kernel, rehearse.KernelTiming(kernel, _kernel_label(plan, kernel)))
  timing.chunk_seconds.append(seconds)
  timing.chunk_runs.append(runs)
  timing.compile_seconds += compiled
  timing.peak_bytes = max(timing.peak_bytes, peak)
  timing.estimated_bytes_per_run = plan.bytes_per_run
  summary.run_seconds += seconds
  summary.chunks_run += 1
  summary.runs += runs
  summary.run_steps += runs * plan.config.train.steps
  summary.diverged += store.diverged_runs(metrics)


def _kernel_label(plan, kernel_id):
  group = next(g for g in plan.groups if g.kernel_id == kernel_id)
  static = {plan.axes[pos][0]: plan.axes[pos][1][i] for pos, i in group.fixed.items()
            if plan.axes[pos][0] != 'data_seed'}
  return '(' + ', '.join(f'{k}={v}' for k, v in static.items()) + ')' if static else ''


def _log_chunk(chunk_id, runs, seconds, summary, total, elapsed):
  rate = summary.runs / max(summary.run_seconds, 1e-9)
  left = (total - summary.chunks_run) * elapsed / max(summary.chunks_run, 1)
  progress_log.info('chunk %d done (%d/%d of this process): %d runs in %.2f s (%.3g runs/s); ETA %s',
                    chunk_id, summary.chunks_run, total, runs, seconds, rate, command.duration(left))
