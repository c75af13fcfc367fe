"""Golden grids: a reduced version of every `small` preset, recorded once and compared after changes.

A refactor must not change results. `reduced(config)` keeps each preset's structure (task,
model, data plan, phases, flags) and cuts what only costs time: fewer steps (phase lengths in
steps scaled with them), two values per swept axis, two seeds, smaller
test sets. Static axes keep their first and last values too (one compile each), so every
code path a preset takes is still taken.

The last bits of a CPU run depend on the CPU's vector instructions (XLA's CPU code differs between
AVX-512 and AVX2 machines, and training turns one ulp into 1e-3 within 200 steps), so a recording
holds for one kind of machine: tests/golden/*.npz were recorded on the machine the project began
on, tests/golden/machines/<signature>/ on others (machine_signature()). Record with

  python tests/golden.py            # writes tests/golden/machines/<this machine>/<config>__<preset>.npz
  python tests/golden.py --default  # replaces tests/golden/<config>__<preset>.npz

and tests/test_golden.py compares every preset's grid to its file.
"""

import hashlib
import importlib.util
import os
import sys

from sslgap import catalog
from sslgap import config as config_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GOLDEN_DIR = os.path.join(ROOT, 'tests', 'golden')
ISA_PREFIXES = ('avx', 'fma', 'amx', 'sse4', 'f16c', 'bmi')


def machine_signature():
  """What the bits of a CPU run depend on besides the code: the CPU model and its vector instructions."""
  model, flags = '', ''
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name') and not model:
          model = line.split(':', 1)[1].strip()
        if line.startswith('flags') and not flags:
          flags = ' '.join(sorted(w for w in line.split(':', 1)[1].split() if w.startswith(ISA_PREFIXES)))
  except OSError:
    pass
  return hashlib.sha256(f'{model}|{flags}'.encode()).hexdigest()[:12]


def machine_dir(signature=None):
  return os.path.join(GOLDEN_DIR, 'machines', signature or machine_signature())

# Every small preset the catalog lists (each sweeps/*.py declares its experiments), once each.
PRESETS = list(dict.fromkeys((e.config, e.preset('small')) for e in catalog.for_scale('small')))


def load_config(name, preset):
  path = os.path.join(ROOT, 'sweeps', f'{name}.py')
  spec = importlib.util.spec_from_file_location(f'sweeps_{name}', path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(preset)


def _shorter(values, keep):
  values = list(values)
  if len(values) <= keep:
    return tuple(values)
  return tuple(values[:1] + values[-(keep - 1):]) if keep > 1 else tuple(values[:1])


def reduced(config):
  """The preset's structure at a cost of seconds (see the module docstring)."""
  c = config
  target = 40 if c.model.kind == 'transformer' else 200
  ratio = min(1.0, target / c.train.steps)
  c.train.steps = min(c.train.steps, target)
  c.train.eval_every = c.train.steps // 4
  if c.data.phase_unit == 'steps':
    scale = lambda lengths: tuple(max(1, int(round(v * ratio))) for v in lengths)
    c.hp.phase_lengths = scale(c.hp.phase_lengths)
    if 'phase_lengths' in c.sweep:
      c.sweep.phase_lengths = tuple(scale(v) for v in c.sweep.phase_lengths)
  c.task.test_size = 256
  c.data.eval_train_size = 256
  for axis, values in config_lib.sweep_axes(c):
    c.sweep[axis] = _shorter(values, 2)
  return c


def narrow(config, layers=None):
  """A Transformer preset's model at width 16 with 4 heads (and `layers` layers if given), for a test of the
  engine's mechanics (chunks, segments) that needs the preset's data path, not its model's size: tracing
  and compiling the kernel is most of such a test's time (measured: 40 s against 25 s for tfm_fig1's chunk
  sizes at one layer). Other models as given."""
  if config.model.kind == 'transformer':
    config.model.dim, config.model.heads = 16, 4
    config.model.layers = layers or config.model.layers
  return config


def golden_path(name, preset, folder=None):
  return os.path.join(folder or GOLDEN_DIR, f'{name}__{preset}.npz')


def recorded_path(name, preset):
  """(path, recorded on this kind of machine): this machine's recording if there is one, else the default."""
  mine = golden_path(name, preset, machine_dir())
  return (mine, True) if os.path.exists(mine) else (golden_path(name, preset), False)


def grid(name, preset):
  """(plan, {metric: grid}) of the reduced preset, run in memory."""
  from sslgap import sweep
  return sweep.run_sweep(reduced(load_config(name, preset)))


def record(presets=PRESETS, folder=None):
  import time

  import jax
  import numpy as np
  folder = folder or machine_dir()
  os.makedirs(folder, exist_ok=True)
  for name, preset in presets:
    start = time.perf_counter()
    plan, metrics = grid(name, preset)
    axes = {f'coord_{axis}': np.asarray([str(v) for v in values]) for axis, values in plan.axes}
    np.savez_compressed(golden_path(name, preset, folder), axis_names=np.asarray([a for a, _ in plan.axes]),
                        devices=np.int64(jax.local_device_count()), machine=np.asarray(machine_signature()), **axes,
                        **{f'metric_{k}': v for k, v in metrics.items()})
    print(f'recorded {name}:{preset} {dict(zip([a for a, _ in plan.axes], plan.shape))} '
          f'in {time.perf_counter() - start:.1f} s', flush=True)


def record_on(presets, devices, folder):
  """Records the reduced presets into folder in one fresh process on `devices` XLA devices (the count is
  fixed when JAX starts): a recording made on another count than a test's process is compared against
  grids computed on its own count, so that the comparison can be bitwise (grid_on reads them)."""
  import subprocess
  env = dict(os.environ, JAX_PLATFORMS='cpu', SSLGAP_HOST_DEVICES=str(devices))
  env.pop('XLA_FLAGS', None)
  env.pop('JAX_DISABLE_MOST_OPTIMIZATIONS', None)  # the recorded bits are of XLA's default level, as users run
  done = subprocess.run([sys.executable, __file__, f'--to={folder}', *(f'{n}:{p}' for n, p in presets)], cwd=ROOT,
                        env=env, capture_output=True, text=True)
  assert done.returncode == 0, done.stderr


def grid_on(name, preset, folder):
  """(axes, {metric: grid}) of a reduced preset that record_on computed into folder."""
  import numpy as np
  with np.load(golden_path(name, preset, str(folder))) as got:
    return ([(a, list(got[f'coord_{a}'])) for a in got['axis_names']],
            {k[len('metric_'):]: got[k] for k in got.files if k.startswith('metric_')})


if __name__ == '__main__':
  sys.path.insert(0, ROOT)
  os.environ.setdefault('JAX_PLATFORMS', 'cpu')
  import jax
  jax.config.update('jax_disable_most_optimizations', False)  # a recording holds the bits users get
  default = '--default' in sys.argv[1:]
  to = [a.split('=', 1)[1] for a in sys.argv[1:] if a.startswith('--to=')]
  wanted = [a for a in sys.argv[1:] if a != '--default' and not a.startswith('--to=')]
  record([p for p in PRESETS if not wanted or f'{p[0]}:{p[1]}' in wanted],
         to[0] if to else GOLDEN_DIR if default else None)
