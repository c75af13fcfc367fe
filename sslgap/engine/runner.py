"""Running a sweep into a folder: shards, leases, resume, clean interruption, progress, rehearsal.

Any number of processes may run into one folder: each chunk is leased before it is computed,
so processes on the same shard split its chunks instead of repeating them. The end of a sweep
is one protocol: a run is done when a valid chunk file or the folder's merged grid holds it;
a process that has nothing left waits for the chunks others hold until they are done (or free
again, when their holder died), and whichever process sees every run done merges the grid
(merges take turns).
"""

import dataclasses
import json
import logging
import os
import signal
import time

import jax
from tqdm.auto import tqdm  # a notebook's own bar in a notebook, the text bar elsewhere

from sslgap.base import backend
from sslgap.base import command
from sslgap.engine import memory
from sslgap.engine import rehearse
from sslgap.engine import stopping
from sslgap.engine import sweep
from sslgap.errors import OptionError, StoreError
from sslgap.folder import sweep_folder

log = logging.getLogger('sslgap')
BUSY_POLL_S = 1.0  # how often a process that has nothing left looks at the chunks others compute
progress_log = logging.getLogger('sslgap.progress')  # one line per chunk when there is no bar


@dataclasses.dataclass
class Options:
  """How to run a sweep into a folder: the experiment scripts' engine flags and sslgap.run's keyword
  arguments, checked here for both (OptionError says what is wrong, in the same words for both)."""

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

  def __post_init__(self):
    self.shard = parse_shard(self.shard)
    sweep.check_count(self.chunk_size, 'chunk_size')
    if self.memory_budget not in (None, ''):
      try:
        memory.parse_bytes(self.memory_budget)
      except ValueError as e:
        raise OptionError(f'memory_budget {e}') from None
    for name in ('max_chunks',):
      value = getattr(self, name)
      if not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        raise OptionError(f'{name} must be a non-negative integer, got {value!r}')
    sweep.check_count(self.projected_shards, 'projected_shards')
    for name in ('fresh', 'replan', 'keep_chunks', 'progress', 'abandon_on_second_signal'):
      if not isinstance(getattr(self, name), bool):
        raise OptionError(f'{name} must be True or False, got {getattr(self, name)!r}')
    if self.fresh and self.replan:
      raise OptionError('fresh and replan: choose one (fresh discards every chunk, replan keeps the finished ones)')


def options_from(**given):
  """Options from keyword arguments, an unknown one named (sslgap.run(..., chunksize=4))."""
  known = [f.name for f in dataclasses.fields(Options)]
  unknown = [k for k in given if k not in known]
  if unknown:
    raise OptionError(f'unknown option {unknown[0]!r}; the options are {", ".join(known)}')
  return Options(**given)


def parse_shard(value):
  """'i/N' or (i, N) -> (i, N), with 0 <= i < N."""
  text = '/'.join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)
  try:
    index, count = (int(v) for v in text.split('/'))
  except ValueError:
    raise OptionError(f'shard must look like i/N (for example 0/4), got {text!r}') from None
  if not 0 <= index < count:
    raise OptionError(f'shard {text}: need 0 <= i < N (shards are numbered from 0)')
  return index, count


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
  folder_changed: str = ''  # why this process stopped when another one started the folder over
  busy_elsewhere: list = dataclasses.field(default_factory=list)  # chunks other processes hold
  damaged: list = dataclasses.field(default_factory=list)  # chunk files set aside and recomputed
  splits: int = 0  # chunks run in halves after running out of device memory
  projection: object = None  # a rehearsal's rehearse.Projection
  timings: dict = dataclasses.field(default_factory=dict)  # kernel id -> rehearse.KernelTiming

  def __str__(self):
    rate = self.runs / self.run_seconds if self.run_seconds else 0.0
    text = (f'{self.runs:,} runs in {self.chunks_run} chunk(s) ({self.chunks_skipped} already done): '
            f'{self.run_seconds:.1f} s running ({command.rate(rate)} runs/s, '
            f'{command.rate(self.run_steps / max(self.run_seconds, 1e-9))} run-steps/s), '
            f'{self.compile_seconds:.1f} s compiling {self.compile_count} kernel(s); '
            f'{self.diverged} diverged run(s)')
    if self.busy_elsewhere:
      text += f'; {len(self.busy_elsewhere)} chunk(s) being computed by other processes'
    return text


# --- the folder's plan ------------------------------------------------------------------------------

def _folder_plan(folder, record, plan, options):
  """(plan, record, layout number) of the folder: its active chunk layout, or a new one (replan)."""
  out, number, active = folder.out, record.number, record.active
  if options.replan:
    busy = folder.live_leases()
    if busy:
      raise StoreError(f'{out}: other processes are computing {len(busy)} chunk(s) (for example {busy[0]}); '
                       'stop them before --replan')
    index = folder.index(record, geometry=plan.chunks.geometry())
    done = folder.done_runs(record, index)
    folder.drop_checkpoints_for_replan(record, index)
    layout = plan.layout_of_missing(done)
    before = record.call_width(plan.num_devices)
    record = folder.add_layout(record, sweep_folder.layout_record(plan.chunk_size, len(layout[0]), plan.device,
                                                                  plan.call_width), *layout)
    log.warning('replanned %s: %d run(s) still missing, in %d chunk(s) of up to %d runs', out, int((~done).sum()),
                len(layout[0]), plan.chunk_size)
    if before != plan.call_width and done.any():
      log.warning('the missing runs are computed %d runs per kernel call, the finished ones were %d: their '
                  'numbers may differ in the last bits (README: what is bitwise)', plan.call_width, before)
    return plan.with_layout(layout), record, number + 1
  # plan.chunk_size is options.chunk_size clipped to the runs a kernel has, as the folder recorded it.
  if options.chunk_size and plan.chunk_size != active['chunk_size']:
    asked = options.chunk_size if options.chunk_size == plan.chunk_size else \
        f'{plan.chunk_size} (--chunk_size {options.chunk_size}, clipped to the runs of a kernel)'
    raise StoreError(f'{out} was started with chunks of {active["chunk_size"]} runs, not {asked}; '
                     'resume without --chunk_size, add --replan to re-chunk the runs still missing, '
                     'or use --fresh')
  planned_on = active['device']
  if planned_on.get('kind') != '?' and numerics(planned_on) != numerics(plan.device):
    log.warning('%s was planned on %s (chunks of %d runs); this is %s, whose numbers may differ in the last bits: '
                'add --replan to re-chunk the runs still missing for this device', out, describe_device(planned_on),
                active['chunk_size'], describe_device(plan.device))
  width = record.call_width(plan.num_devices)
  if width % plan.num_devices:
    padded = -(-width // plan.num_devices) * plan.num_devices
    log.warning('%s computes %d runs per kernel call, which %d devices cannot split evenly: %d here, whose '
                'numbers may differ in the last bits', out, width, plan.num_devices, padded)
    width = padded
  plan = dataclasses.replace(plan.with_chunk_size(active['chunk_size']), call_width=width)
  if number:
    plan = plan.with_layout(folder.read_layout(number))
  return plan, record, number


def numerics(device):
  """What a run's last bits depend on besides its grid point: the device kind and how many share a call."""
  return device.get('kind'), int(device.get('count') or 1)


def describe_device(device):
  kind, count = numerics(device)
  return f'{count} x {kind}' if count > 1 else kind


def prepare_folder(config, out, options):
  """(plan, plan record, layout number, complete) of `out` for this config: planned (or the folder's
  plan), emptied first with options.fresh, re-chunked with options.replan. Validates the config
  before anything is written."""
  folder = sweep_folder.Folder(out)
  existing = None if options.fresh or options.replan or not os.path.isdir(out) else folder.plan()
  # A folder's chunks are fixed: planning them again (compiling, on an accelerator) would be wasted.
  plan = sweep.make_plan(config, options.chunk_size or (existing and existing.active['chunk_size']),
                         options.memory_budget,
                         call_width=existing and existing.call_width(len(backend.local_devices())))
  folder.create(fresh=options.fresh)
  layout = sweep_folder.layout_record(plan.chunk_size, plan.num_chunks, plan.device, plan.call_width)
  record = folder.open_plan(sweep_folder.plan_record(config.name, plan.config_json(), plan.axes, plan.eval_steps,
                                                     layout, plan.info(), shards=options.shard[1],
                                                     geometry=plan.chunks.geometry(),
                                                     examples_seen=[g.spec.examples_seen(plan.eval_steps).tolist()
                                                                    for g in plan.subgrids]))
  if folder.is_complete(record) and not options.max_chunks:
    return plan, record, record.number, True
  return _folder_plan(folder, record, plan, options) + (False,)


def _log_plan(plan, options):
  for line in plan.describe().splitlines():
    (log.warning if line.startswith('a large grid') else log.info)(line)
  given = options.chunk_size or plan.config.engine.chunk_size
  if given and plan.chunk_size % plan.call_width:
    calls = -(-plan.chunk_size // plan.call_width)
    log.warning('chunks of %d runs are computed %d runs per kernel call, the last call padded: %.0f%% more work '
                'than the runs need; a chunk size that is a multiple of %d wastes nothing', plan.chunk_size,
                plan.call_width, 100 * (calls * plan.call_width / plan.chunk_size - 1), plan.call_width)


# --- one process's work on a folder ----------------------------------------------------------------

class _Done:
  """Whether a chunk is done: a valid chunk file, or every one of its runs in the merged grid (whose
  `finished` mask is read again only when the file changes)."""

  def __init__(self, folder, record, plan, number, index):
    self.folder, self.record, self.plan, self.number, self.index = folder, record, plan, number, index
    self._merged, self._stamp = None, None

  def _merged_finished(self):
    path = self.folder.merged_path(self.record)
    try:
      stat = os.stat(path)
      stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    except OSError:
      return None
    if stamp != self._stamp:
      self._merged, self._stamp = self.folder.merged_finished(self.record), stamp
    return self._merged

  def __call__(self, chunk_id):
    # The chunk file first: a merge writes the grid before it removes the chunk files.
    if self.index.is_valid(self.number, chunk_id):
      return True
    merged = self._merged_finished()
    return merged is not None and bool(merged[self.plan.positions(chunk_id)].all())

  def all_runs(self):
    """Whether every run of the grid is done (by chunk counts first: a billion-run mask is a gigabyte)."""
    if len(self.index.finished(self.number)) == self.plan.num_chunks:
      return True
    if self.number == 0 and self._merged_finished() is None:
      return False
    return bool(self.folder.done_runs(self.record, self.index).all())


def _todo(plan, shard, finished, max_chunks):
  """(chunks, how many, how many runs they hold): this shard's chunks not yet finished, lazily (a grid
  of a billion runs has tens of millions); a rehearsal's: the first unfinished chunk of each kernel,
  then the second, ..."""
  if max_chunks:
    chosen = rehearse.choose_chunks(plan, shard, finished, max_chunks)
    return iter(chosen), len(chosen), sum(plan.chunks.size_of(c) for c in chosen)
  todo = (c for c in plan.shard_chunks(shard) if c not in finished)
  return todo, sum(plan.chunk_counts(shard, finished).values()), plan.shard_runs(shard, finished)


def _measure_chunk(executor, chunk_id, stop, resume=None, on_boundary=None):
  """(metrics, positions, seconds without compiling, compile seconds, peak bytes), or None if a
  stop signal came while the chunk's kernel was compiled. From its return the chunk is protected
  from being abandoned (stop.protect) until it is written. resume, on_boundary: see Executor.run_chunk.

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
  metrics, positions = executor.run_chunk(chunk_id, resume, on_boundary)
  stop.protect()
  seconds = time.perf_counter() - start - (executor.compile_seconds - prepared)
  peak = max(memory.peak_rss_bytes() - base, 0) if on_cpu else memory.allocator_peak_bytes()
  return metrics, positions, seconds, executor.compile_seconds - before, peak


class Checkpointed(Exception):
  """A stop signal came while a chunk was in flight: its checkpoint is written, the process stops."""


class _Watch:
  """What a chunk in flight does at each segment boundary (sweep.Executor.run_chunk's on_boundary):
  moves the bar by the runs' worth computed, and checkpoints when it is time or a stop signal came."""

  def __init__(self, folder_run, chunk_id, bar, every_seconds, resumed_seconds):
    self.run, self.chunk_id, self.bar, self.every = folder_run, chunk_id, bar, every_seconds
    self.resumed_seconds, self.started = resumed_seconds, time.monotonic()
    self.compiled_before = folder_run.executor.compile_seconds  # the pace leaves compiling out
    self.last = self.started
    self.shown = 0.0  # runs' worth of this chunk the bar has been moved by

  def computing_seconds(self):
    compiled = self.run.executor.compile_seconds - self.compiled_before
    return self.resumed_seconds + max(time.monotonic() - self.started - compiled, 0.0)

  def __call__(self, runs_done, progress_fn):
    if runs_done > self.shown:  # a call run again at half width (out of memory) does not move it back
      self.bar.update(runs_done - self.shown)
      self.shown = runs_done
    run = self.run
    if not run.stop.signum and time.monotonic() - self.last < self.every:
      return
    progress = progress_fn()
    flight = progress.in_flight
    run.folder.write_checkpoint(run.number, self.chunk_id, run.plan.positions(self.chunk_id), run.record.config_hash,
                                progress.width, progress.calls, jax.tree_util.tree_leaves(flight.state),
                                flight.metrics, flight.next_interval, seconds=self.computing_seconds(),
                                device=run.plan.device)
    self.last = time.monotonic()
    log.info('chunk %d: checkpoint at interval %d (%d calls done)', self.chunk_id, flight.next_interval,
             len(progress.calls))
    if run.stop.signum:
      raise Checkpointed(f'chunk {self.chunk_id} stopped at interval {flight.next_interval} of '
                         f'{len(run.plan.eval_steps) - 1}, saved as its checkpoint')


class _FolderRun:
  """The steps of one process's run into a folder: compute this shard's chunks (leased, saved one
  file each), wait for the ones others hold, then rehearse, report an interruption, or merge."""

  def __init__(self, config, out, options):
    self.out, self.options, self.folder = out, options, sweep_folder.Folder(out)
    self.plan, self.record, self.number, self.complete = prepare_folder(config, out, options)
    self.summary = Summary()
    self.timings = {}
    self._stretched = set()  # kernels whose checkpoints the budget spaces out (said once each)

  def run(self):
    if self.complete:
      self.summary.path = self.folder.merged_path(self.record)
      log.warning('%s is complete already: %s (--fresh to compute it again)', self.out, self.summary.path)
      return self.summary
    _log_plan(self.plan, self.options)
    self.index = self.folder.index(self.record, geometry=self.plan.chunks.geometry())
    self.done = _Done(self.folder, self.record, self.plan, self.number, self.index)
    finished = {c for _, c in self.index.finished(self.number)}
    shard = self.options.shard
    todo, self.chunks_to_do, total_runs = _todo(self.plan, shard, finished, self.options.max_chunks)
    self.summary.chunks_skipped = len([c for c in finished if c % shard[1] == shard[0]])
    if self.summary.chunks_skipped and not self.options.max_chunks:
      log.info('resuming %s: %d of %d chunk(s)%s done, %d to run', self.out, self.summary.chunks_skipped,
               self.summary.chunks_skipped + self.chunks_to_do, f' of shard {shard[0]}/{shard[1]}' if shard[1] > 1 else '',
               self.chunks_to_do)
    self.executor = sweep.Executor(self.plan)
    self.leases = self.folder.leases()
    bar = tqdm(total=total_runs, unit='run', unit_scale=True, disable=not self.options.progress, smoothing=0.1)
    try:
      with stopping.StopOnSignal(self.options.stop_signals, self.options.abandon_on_second_signal,
                                 self.leases.close) as self.stop, bar:
        self._compute(todo, bar)
    finally:
      self.leases.close()
    return self._finish()

  def _compute(self, todo, bar):
    """Computes the chunks of `todo` that no other process holds, then waits for those they hold."""
    stamp = self.folder.plan_stamp()
    busy, waited = [], False
    while not self.stop.signum:
      chunk_id = next(todo, None)
      if chunk_id is None:
        busy = [c for c in busy if not self.done(c)]
        free = [c for c in busy if not self.folder.lease_is_live(self.number, c)]
        if free:  # their holder died: ours now
          todo, busy = iter(free), [c for c in busy if c not in free]
          continue
        if not busy or self.options.max_chunks:
          break
        if not waited:
          log.warning('waiting for %d chunk(s) that other processes are computing', len(busy))
        waited = True
        time.sleep(BUSY_POLL_S)
        continue
      if self.folder.plan_stamp() != stamp:
        self.summary.folder_changed = (f'{self.out} was started over (--fresh) or replanned (--replan) by another '
                                       'process: this one stopped; rerun the command to continue with the new plan')
        break
      if self.done(chunk_id):
        continue
      if not self.leases.take(self.number, chunk_id):
        busy.append(chunk_id)
        continue
      try:
        if self.done(chunk_id):  # finished (and merged) while the lease was free
          continue
        resume, resumed_seconds = self._resume(chunk_id)
        watch = self._checkpointer(chunk_id, bar, resumed_seconds)
        try:
          measured = _measure_chunk(self.executor, chunk_id, self.stop, resume, watch)
        except Checkpointed as stopped:
          log.warning('%s; rerun the command to continue it from there', stopped)
          break
        if measured is None:
          break
        metrics, positions, seconds, compiled, peak = measured
        # the chunk's computing time includes its checkpoint's: counted from here alone, a resumed chunk's
        # run-steps/s came out several times too fast (a design priced its confirmation at 162 s; it took 529)
        seconds += resumed_seconds
        try:
          self.folder.write_chunk(self.number, chunk_id, positions, metrics, self.record.config_hash,
                                  seconds=seconds, shard='/'.join(map(str, self.options.shard)), host=sweep_folder.HOST)
          self.folder.remove_checkpoint(chunk_id, self.number)
        finally:
          self.stop.done_writing()
      finally:
        self.leases.release(self.number, chunk_id)
      self._count(chunk_id, len(positions), metrics, seconds, compiled, peak)
      bar.update(len(positions) - watch.shown)
      bar.set_postfix(chunks=f'{self.summary.chunks_run}/{self.chunks_to_do}',
                      run_steps_per_s=f'{self.summary.run_steps / max(self.summary.run_seconds, 1e-9):.3g}')
      if not self.options.progress:
        self._log_chunk(chunk_id, len(positions), seconds, bar.total)
    self.summary.busy_elsewhere = [c for c in busy if not self.done(c)]

  def _resume(self, chunk_id):
    """(the ChunkProgress of a chunk's checkpoint, the seconds it took so far), or (None, 0) when it has
    none or a damaged one (set aside: the chunk starts over)."""
    if not self.folder.has_checkpoint(chunk_id, self.number):
      return None, 0.0
    specs, treedef = self.executor.state_structure(chunk_id)
    width = self.executor.call_width_of(self.plan.kernel_of(chunk_id))
    saved = self.folder.read_checkpoint(chunk_id, self.number, self.record, self.plan.positions(chunk_id), width,
                                        specs, device=self.plan.device)
    if saved is None:  # damaged (set aside) or of other numerics (removed): the chunk starts over
      return None, 0.0
    total = len(self.plan.eval_steps) - 1
    calls = -(-len(self.plan.positions(chunk_id)) // width)
    log.warning('chunk %d resumes from its checkpoint at step %s of %s (interval %d of %d%s), not from step 0',
                chunk_id, f'{int(self.plan.eval_steps[saved["next_interval"]]):,}', f'{int(self.plan.eval_steps[-1]):,}',
                saved['next_interval'], total, f'; call {len(saved["calls"]) + 1} of {calls}' if calls > 1 else '')
    flight = sweep.Progress(treedef.unflatten(saved['leaves']), saved['flight'], saved['next_interval'])
    return sweep.ChunkProgress(width, saved['calls'], flight), saved['seconds']

  def _checkpointer(self, chunk_id, bar, resumed_seconds=0.0):
    """A chunk's _Watch: the bar moves per segment, a checkpoint every engine.checkpoint_minutes
    (longer over engine.checkpoint_budget) and when a stop signal came (then Checkpointed stops)."""
    subgrid, _ = self.plan.chunk(chunk_id)
    width = self.executor.call_width_of(subgrid.kernel_id)
    minutes, weight = sweep.checkpoint_minutes(self.plan.config, subgrid.spec, width)
    engine = self.plan.config.engine
    segmented = self.executor.segment_intervals(subgrid, width)  # a chunk in one call writes no checkpoint
    if segmented and minutes > engine.checkpoint_minutes and subgrid.kernel_id not in self._stretched:
      self._stretched.add(subgrid.kernel_id)
      log.warning('kernel %d: a checkpoint weighs %.3g MB, over engine.checkpoint_budget %s: one every %.3g min '
                  'instead of %g', subgrid.kernel_id, weight / 1e6, engine.checkpoint_budget, minutes,
                  engine.checkpoint_minutes)
    return _Watch(self, chunk_id, bar, minutes * 60, resumed_seconds)

  def _count(self, chunk_id, runs, metrics, seconds, compiled, peak):
    """Adds a finished chunk to the summary and to its kernel's timing."""
    plan, summary = self.plan, self.summary
    kernel = plan.kernel_of(chunk_id)
    timing = self.timings.setdefault(kernel, rehearse.KernelTiming(kernel, _kernel_label(plan, kernel)))
    timing.chunk_seconds.append(seconds)
    timing.chunk_runs.append(runs)
    timing.compile_seconds += compiled
    timing.peak_bytes = max(timing.peak_bytes, peak)
    timing.estimated_bytes_per_run = plan.bytes_per_run
    summary.run_seconds += seconds
    summary.chunks_run += 1
    summary.runs += runs
    summary.run_steps += runs * plan.config.train.steps
    summary.diverged += sweep_folder.diverged_runs(metrics)

  def _log_chunk(self, chunk_id, runs, seconds, total_runs):
    """One line per chunk; the ETA from the time spent computing, not compiling."""
    s = self.summary
    rate = s.runs / max(s.run_seconds, 1e-9)
    left = max(total_runs - s.runs, 0) / rate if s.runs else float('nan')
    progress_log.info('chunk %d done (%d/%d of this process): %d runs in %.2f s (%.3g runs/s); ETA %s',
                      chunk_id, s.chunks_run, self.chunks_to_do, runs, seconds, rate, command.duration(left))

  def _finish(self):
    summary, plan, out, options = self.summary, self.plan, self.out, self.options
    summary.compile_count, summary.compile_seconds = self.executor.compile_count, self.executor.compile_seconds
    summary.damaged, summary.splits, summary.timings = self.index.damaged, self.executor.splits, self.timings
    summary.stopped_by = self.stop.signum
    log.info('%s', summary)
    if summary.folder_changed:
      return summary
    if options.max_chunks:
      self._rehearsal()
    if self.stop.signum:
      finished = {c for _, c in self.index.finished(self.number)}
      left = sum(self.plan.chunk_counts(options.shard, finished).values())
      log.warning('Interrupted: %d chunk(s) of this shard are still to run in %s. Rerun the same command '
                  'to resume from the saved ones.', left, out)
      return summary
    if self.done.all_runs():
      summary.path, diverged = self.folder.merge(keep_chunks=options.keep_chunks)
      log.info('merged %d chunk(s) into %s', plan.num_chunks, summary.path)
      if diverged:
        log.warning('%d run(s) in the grid diverged (NaN), for example %s', len(diverged), diverged[:3])
    elif summary.busy_elsewhere:
      log.warning('%d chunk(s) of this shard are being computed by other processes; the last process to '
                  'finish merges the grid (or: python -m sslgap.merge %s)', len(summary.busy_elsewhere), out)
    elif not options.max_chunks:
      index, count = options.shard
      log.info('shard %d/%d done; other shards still have chunks to run. When all are done: '
               'python -m sslgap.merge %s (or rerun this command without --shard)', index, count, out)
    return summary

  def _rehearsal(self):
    plan, summary, timings = self.plan, self.summary, self.timings
    if not timings:
      log.warning('nothing to rehearse: every chunk of this shard in %s is done', self.out)
      return
    fits = (plan.measured or sweep.measure_memory(plan, kernel_ids=set(timings)))['per_kernel']
    for kernel, timing in timings.items():
      timing.measured_bytes_per_run = fits[kernel]['per_run']
    done_now = {c for _, c in self.index.finished(self.number)}
    summary.projection = rehearse.project(plan, timings, self.options.projected_shards, done_now)
    for line in rehearse.report(plan, timings, summary.projection, self.options.projected_shards):
      log.warning('%s', line)
    self.folder.write_text('rehearsal.json', json.dumps(rehearse.as_json(plan, timings, summary.projection), indent=1))


def run_to_folder(config, out, options=None):
  """Runs this shard's unfinished chunks into `out`; merges the grid when every run is done."""
  return _FolderRun(config, out, options or Options()).run()


def _kernel_label(plan, kernel_id):
  group = next(g for g in plan.subgrids if g.kernel_id == kernel_id)
  static = {plan.axes[pos][0]: plan.axes[pos][1][i] for pos, i in group.fixed.items()
            if plan.axes[pos][0] != 'data_seed'}
  return '(' + ', '.join(f'{k}={v}' for k, v in static.items()) + ')' if static else ''
