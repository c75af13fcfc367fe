"""Peak memory of one chunk, measured, against the engine's estimate.

  python benchmarks/bench_memory.py --config=sweeps/init_scale_heatmap.py:small --chunk_sizes=256,1024,4096

Each chunk size runs in a fresh process. On a CPU the measurement is the growth of the
process's peak resident memory while the compiled chunk runs; on a GPU the larger of XLA's
figure for the compiled executable and the device allocator's peak. Prints bytes per run
measured, XLA's figure and the formula's estimate, and measured / estimate.
"""

import json
import subprocess
import sys

from absl import app
from absl import flags
from ml_collections import config_flags

_CONFIG = config_flags.DEFINE_config_file('config', 'sweeps/init_scale_heatmap.py:small', 'Sweep config.')
_CHUNK_SIZES = flags.DEFINE_list('chunk_sizes', ['256', '1024', '4096'], 'Chunk sizes to measure.')
_STEPS = flags.DEFINE_integer('steps', 200, 'Steps per run (memory does not depend on it).')
_CHILD = flags.DEFINE_integer('child', 0, 'Internal: measure this chunk size in this process.')


def measure(config, chunk_size):
  import jax
  from sslgap import memory
  from sslgap import sweep
  plan = sweep.make_plan(config, chunk_size=chunk_size, call_width=chunk_size)
  executor = sweep.Executor(plan)
  group, flat = plan.chunk(0)
  data = executor._subgrid_data(group)
  hp = jax.device_put(executor.chunk_hp(group, flat), executor._runs)
  kernel = executor.compile(group, plan.call_width)
  memory.reset_peak_rss()
  before = memory.rss_bytes()
  jax.block_until_ready(kernel(hp, data))
  rss_growth = memory.peak_rss_bytes() - before
  device = jax.devices()[0]
  stats = device.memory_stats() or {}
  return {
      'chunk_size': chunk_size,
      'platform': device.platform,
      'estimated_bytes_per_run': plan.bytes_per_run,
      'xla_peak_bytes': executor.compiled_peak_bytes[(group.kernel_id, plan.call_width)],
      'allocator_peak_bytes': stats.get('peak_bytes_in_use', 0),
      'rss_growth_bytes': rss_growth,
  }


def main(argv):
  del argv
  config = _CONFIG.value
  config.train.steps, config.train.eval_every = _STEPS.value, _STEPS.value
  if _CHILD.value:
    print(json.dumps(measure(config, _CHILD.value)))
    return
  print(f'{"chunk":>7} {"estimate MB/run":>16} {"measured MB/run":>16} {"measured/estimate":>18} '
        f'{"XLA MB/run":>11}  source')
  for size in (int(s) for s in _CHUNK_SIZES.value):
    args = [a for a in sys.argv[1:] if not a.startswith('--chunk_sizes')]
    out = subprocess.run([sys.executable, __file__, *args, f'--child={size}'], capture_output=True, text=True,
                         check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if row['platform'] == 'cpu':
      measured, source = row['rss_growth_bytes'], 'peak RSS growth'
    else:
      measured, source = max(row['xla_peak_bytes'], row['allocator_peak_bytes']), 'XLA / allocator peak'
    per_run = measured / size
    print(f'{size:>7} {row["estimated_bytes_per_run"] / 1e6:>16.3f} {per_run / 1e6:>16.3f} '
          f'{per_run / row["estimated_bytes_per_run"]:>18.2f} {row["xla_peak_bytes"] / size / 1e6:>11.3f}  {source}')


if __name__ == '__main__':
  app.run(main)
