"""Where a sweep folder stands, without touching it: python -m sslgap.status DIR [--json] [--shards N]

Chunks done of the total (per shard), runs per second and the ETA from the chunk files' finish
times, diverged runs, damaged chunk files, and the chunks other processes are computing now.
"""

import json
import os
import time

import numpy as np

from sslgap.base import command
from sslgap.folder import Folder
from sslgap import errors


def folder_status(out, shards=None):
  """A dict of the folder's progress (what --json prints). Runs are done when the merged grid or a
  valid chunk file holds them; a chunk is done when all of its runs are."""
  folder = Folder(out)
  record = folder.require_plan()
  number, layout = record.number, record.active
  shards = shards or record.shards
  merged = folder.merged_path(record)
  total_runs = record.total_runs
  index = folder.index(record, read_only=True)
  in_grid = folder.merged_finished(record)
  done = folder.done_runs(record, index)
  _, _, facts = folder.gather(record, index)
  chunks = folder.chunk_layout(record, number)
  files_done = {c for lay, c in index.finished(number)}
  if done.all():
    active = set(range(layout['num_chunks']))
  elif in_grid is None or chunks is None:
    active = files_done
  else:  # a chunk whose file is gone is done when the merged grid holds all of its runs
    active = files_done | {c for c in range(layout['num_chunks']) if in_grid[chunks.positions(c)].all()}
  per_shard = []
  for i in range(shards):
    mine = range(i, layout['num_chunks'], shards)
    per_shard.append({'shard': f'{i}/{shards}', 'chunks_done': sum(c in active for c in mine), 'chunks_total': len(mine)})
  times = sorted(f['finished_at'] for f in facts if np.isfinite(f['finished_at']))
  rate = None
  if len(times) >= 2 and times[-1] > times[0]:
    runs_after_first = sum(f['runs'] for f in facts if f['finished_at'] > times[0])
    rate = runs_after_first / (times[-1] - times[0])
  left = int((~done).sum())
  return {
      'folder': out, 'name': record['name'], 'complete': bool(done.all()),
      'merged': merged if in_grid is not None else None,
      'merged_runs': int(in_grid.sum()) if in_grid is not None else 0,
      'runs_total': total_runs, 'runs_done': int(done.sum()),
      'chunks_total': layout['num_chunks'], 'chunks_done': len(active), 'layout': number,
      'chunk_size': layout['chunk_size'], 'planned_on': layout['device'].get('kind'),
      'per_shard': per_shard,
      'runs_per_second': rate, 'eta_seconds': left / rate if rate and left else None,
      'last_chunk_seconds_ago': time.time() - times[-1] if times else None,
      'diverged_runs': sum(f['diverged'] for f in facts),
      'damaged_chunks': index.damaged,
      'in_progress': folder.live_leases(),
      'future_dated_leases': folder.future_dated_leases(),
      'checkpoints': _checkpoints(folder, record, index),
      'unusable_checkpoints': index.unusable,
  }


def _checkpoints(folder, record, index):
  """[{'chunk', 'interval', 'intervals', 'step', 'call', 'calls', 'seconds_ago', 'done_fraction',
  'eta_seconds'}] of the chunks in flight with a checkpoint the runner would resume (the time to finish
  at the chunk's own pace so far, counted from now; None for a checkpoint from before it recorded its pace)."""
  found, intervals = [], record.intervals
  for (lay, chunk_id), path in sorted(index.checkpoints().items()):
    facts = folder.checkpoint_facts(path)
    if facts is None:
      continue
    interval, width, runs, calls, seconds = (facts[k] for k in ('interval', 'width', 'runs', 'calls', 'seconds'))
    fraction = folder.done_fraction(runs, width, calls, interval, intervals)
    ago = max(time.time() - facts['written_at'], 0.0)  # another host's clock may run ahead
    running = folder.lease_is_live(lay, chunk_id)
    skewed = folder.lease_is_future_dated(lay, chunk_id)  # its pace is not known from here
    eta = (max(seconds * (1 - fraction) / fraction - ago, 0.0)
           if running and not skewed and seconds > 0 and fraction > 0 else None)
    found.append({'chunk': chunk_id, 'layout': lay, 'interval': interval, 'intervals': intervals,
                  'step': int(record['eval_steps'][interval]), 'steps': int(record['eval_steps'][-1]),
                  'call': calls + 1, 'calls': -(-runs // width), 'seconds_ago': ago, 'done_fraction': fraction,
                  'running': running, 'eta_seconds': eta})
  return found


def describe(status):
  lines = [f'{status["folder"]} ({status["name"]}): {status["runs_done"]:,} of {status["runs_total"]:,} runs, '
           f'{status["chunks_done"]:,} of {status["chunks_total"]:,} chunks done']
  if status['complete']:
    merged_all = status['merged'] and status['merged_runs'] == status['runs_total']
    lines.append(f'complete; grid: {status["merged"] if merged_all else "not merged yet (python -m sslgap.merge)"}')
    if status['damaged_chunks']:
      lines.append(f'{len(status["damaged_chunks"])} damaged chunk file(s): ' + ', '.join(status['damaged_chunks']))
    return '\n'.join(lines)
  lines.append(f'chunks of {status["chunk_size"]:,} runs, planned on {status["planned_on"]}'
               + (f' (layout {status["layout"]}, from --replan)' if status['layout'] else ''))
  if len(status['per_shard']) > 1:
    lines.append('per shard: ' + ', '.join(f'{s["shard"]} {s["chunks_done"]}/{s["chunks_total"]}'
                                          for s in status['per_shard']))
  if status['runs_per_second']:
    lines.append(f'{status["runs_per_second"]:,.3g} runs/s from the chunk finish times; ETA '
                 f'{command.duration(status["eta_seconds"])}; last chunk {command.duration(status["last_chunk_seconds_ago"])} ago')
  lines.append(f'{status["diverged_runs"]} diverged run(s); {len(status["damaged_chunks"])} damaged chunk file(s)'
               + (': ' + ', '.join(status['damaged_chunks']) if status['damaged_chunks'] else ''))
  if status['in_progress']:
    lines.append(f'being computed now: {", ".join(status["in_progress"][:8])}'
                 + (' ...' if len(status['in_progress']) > 8 else ''))
  if status.get('future_dated_leases'):
    lines.append(f'lease(s) dated in the future by their host\'s clock (clock skew): '
                 f'{", ".join(status["future_dated_leases"][:8])}; a process on the folder takes such a chunk over '
                 f'once its lease has not changed for {command.duration(Folder.LEASE_STALE_S)}')
  for c in status.get('checkpoints', [])[:8]:
    where = f'step {c["step"]:,} of {c["steps"]:,}' + (f' in call {c["call"]} of {c["calls"]}' if c['calls'] > 1 else '')
    finish = (f'; about {command.duration(c["eta_seconds"])} to finish at its pace' if c['eta_seconds'] is not None
              else '' if c['running'] else '; no process is computing it now (rerun the command to continue it)')
    lines.append(f'chunk {c["chunk"]}: checkpoint at interval {c["interval"]} of {c["intervals"]} ({where}, '
                 f'{c["done_fraction"]:.0%} of the chunk), written {command.duration(c["seconds_ago"])} ago{finish} '
                 '(merge --allow_missing shows its curves so far)')
  if status.get('unusable_checkpoints'):
    lines.append(f'{len(status["unusable_checkpoints"])} checkpoint(s) no run will resume (not counted): '
                 + ', '.join(status['unusable_checkpoints']))
  if status['merged']:
    lines.append(f'a partial grid of {status["merged_runs"]:,} runs is at {status["merged"]}')
  return '\n'.join(lines)


def main(argv=None):
  parser = command.Parser(prog='python -m sslgap.status', description=__doc__.splitlines()[0])
  parser.add_argument('folder', help='the sweep folder (the --out of the experiment)')
  parser.add_argument('--json', action='store_true', help='print the status as JSON')
  parser.add_argument('--shards', type=int, default=None, help='count per shard for N shards (default: as planned)')
  args = parser.parse_args(argv)
  if os.path.isfile(args.folder):
    command.fail(f'{args.folder} is a file, not a sweep folder: give the folder it is in '
                 f'({os.path.dirname(args.folder) or "."})')
  if not os.path.isdir(args.folder):
    command.fail(f'{args.folder}: no such folder')
  if args.shards is not None and args.shards < 1:
    command.fail(f'--shards must be at least 1, got {args.shards}')
  try:
    status = folder_status(args.folder, args.shards)
  except errors.StoreError as e:
    command.fail(str(e))
  print(json.dumps(status, indent=1) if args.json else describe(status))
  return 0


if __name__ == '__main__':
  command.run(main)
