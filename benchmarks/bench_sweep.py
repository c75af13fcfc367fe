"""sslgap against what a researcher would otherwise run, and against the hardware, in one process.

  python benchmarks/bench_sweep.py                      # both workloads, a table of ratios
  python benchmarks/bench_sweep.py --json bench.json    # also write the figures

Workloads (the Figure 6 run, and Figure 2's full-batch GD):
  mlp        2-hidden-layer ReLU MLP, width 64, (20,6)-parity inputs, batch 128, SGD,
             mini-batches drawn with replacement from an N = 8192 subset, hinge loss
  fullbatch  1-hidden-layer ReLU MLP, width 64, (20,6)-parity, full-batch GD on N = 2^14
  transformer  2-layer pre-LN encoder, dim 64, 4 heads, MLP 4x, the 20 parity bits as tokens,
             mean readout, AdamW, batch 32 from an N = 8192 subset, hinge loss

Contenders, measured in interleaved rounds (the machine is shared; medians over rounds):
  sslgap       the sweep engine (jit(vmap(run)) over a chunk of seeds), several chunk sizes
  (ceiling)    the matrix products of sslgap's step alone, vmapped like a chunk: what is left
               between sslgap and this row is sampling, activations, loss and the update
  torch_loop   a plain PyTorch loop training the runs one after another
  torch_vmap   a torch.func ensemble (stack_module_state + functional_call + vmap(grad))
  matmul_peak  the device's dense float32 matmul rate: a 4096 x 4096 product through XLA

Speed is run-steps per second (runs x optimisation steps); FLOP/s count 6 x batch x parameters
per step (forward 2, backward 4; N instead of batch for full-batch GD; batch x tokens for the
Transformer, whose attention-score products are left out of the count). sslgap's time covers
whole runs including the evaluations at the first and last step; compile time is reported
apart. PyTorch is the optional extra `bench`; without it the torch rows are skipped.
"""

import copy
import functools
import json
import os
import statistics
import time

from absl import app
from absl import flags

import sslgap  # noqa: F401  (splits the CPU into one device per core before JAX starts)
import jax
import jax.numpy as jnp
import numpy as np

from sslgap import config as config_lib
from sslgap import memory
from sslgap import spec
from sslgap import sweep

_WORKLOADS = flags.DEFINE_list('workloads', ['mlp', 'fullbatch', 'transformer'], 'Workloads to run.')
_ROUNDS = flags.DEFINE_integer('rounds', 3, 'Interleaved measurement rounds (medians are reported).')
_STEPS = flags.DEFINE_integer('steps', 1000, 'Steps per sslgap run (timed over whole runs).')
_CHUNKS = flags.DEFINE_list('chunk_sizes', None, 'sslgap chunk sizes (default per workload).')
_ENSEMBLES = flags.DEFINE_list('ensemble_sizes', None, 'torch.func ensemble sizes (default per workload).')
_JSON = flags.DEFINE_string('json', None, 'Write the figures to this JSON file.')

WORKLOADS = {
    'mlp': dict(hidden_layers=2, batch=128, dataset_size=8192, full_batch=False,
                chunks=[16, 32, 64, 256], ensembles=[64, 128], torch_steps=300, vmap_steps=60),
    'fullbatch': dict(hidden_layers=1, batch=2**14, dataset_size=2**14, full_batch=True,
                      chunks=[4, 8, 16], ensembles=[2, 4], torch_steps=20, vmap_steps=6),
    'transformer': dict(transformer=True, batch=32, dataset_size=8192, full_batch=False,
                        chunks=[2, 4, 8], ensembles=[4, 8], torch_steps=40, vmap_steps=10),
}
N_IN, K, WIDTH, LR = 20, 6, 64, 0.1
# The paper's Figure 6: about 42 million runs per heatmap; 2000 steps is our heatmap's run length.
PAPER_FIG6_RUNS, PAPER_FIG6_STEPS = 42_000_000, 2000


TFM = dict(layers=2, dim=64, heads=4, mlp_ratio=4)


def config_for(w, steps, runs):
  if w.get('transformer'):
    c = config_lib.base_config()
    c.task.n, c.task.k = N_IN, K
    config_lib.set_transformer(c, **TFM)
    c.optim.kind, c.hp.lr, c.hp.weight_decay = 'adamw', 1e-3, 0.0
    c.train.batch_size, c.train.steps, c.train.eval_every = w['batch'], steps, steps
    c.hp.dataset_size = w['dataset_size']
    # 20 tokens a sequence make 2 x 8192 evaluation examples cost a third of a 300-step run;
    # the torch contenders do not evaluate, so sslgap evaluates on 512 + 512.
    c.task.test_size = c.data.eval_train_size = 512
    c.sweep.seed = tuple(range(runs))
    return c
  c = config_lib.base_config()
  c.task.n, c.task.k = N_IN, K
  c.model.hidden_layers, c.model.width = w['hidden_layers'], WIDTH
  c.train.batch_size = min(w['batch'], 128)
  c.train.steps, c.train.eval_every = steps, steps
  c.hp.lr, c.hp.dataset_size = LR, w['dataset_size']
  if w['full_batch']:
    c.data.mode = 'full_batch'
  c.sweep.seed = tuple(range(runs))
  return c


def params_per_run(w):
  return memory.param_count(spec.derive(config_for(w, 1, 1)))


def flop_count(w):
  rows = w['batch'] * (N_IN if w.get('transformer') else 1)
  return 6 * rows * params_per_run(w)


# --- contenders: each returns (setup info, a callable that runs once and returns run-steps) ----

def sslgap_contender(w, chunk):
  config = config_for(w, _STEPS.value, chunk)
  plan = sweep.make_plan(config, chunk_size=chunk)
  executor = sweep.Executor(plan)
  executor.run_chunk(0)  # compiles, then runs once
  return {'compile_s': executor.compile_seconds, 'bytes_per_run': plan.bytes_per_run}, \
      lambda: (executor.run_chunk(0), chunk * _STEPS.value)[1]


def torch_data(torch, w):
  generator = torch.Generator().manual_seed(0)
  x = (torch.randint(0, 2, (w['dataset_size'], N_IN), generator=generator) * 2 - 1).float()
  return x, x[:, :K].prod(dim=1)


@functools.lru_cache(maxsize=None)
def torch_transformer_class(torch):
  """The same encoder as sslgap.models.transformer.Transformer (pre-LN, mean readout), in PyTorch."""
  nn, dim, heads = torch.nn, TFM['dim'], TFM['heads']

  class Block(nn.Module):
    def __init__(self):
      super().__init__()
      self.ln_attn, self.ln_mlp = nn.LayerNorm(dim), nn.LayerNorm(dim)
      self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))
      self.mlp = nn.Sequential(nn.Linear(dim, TFM['mlp_ratio'] * dim), nn.GELU(), nn.Linear(TFM['mlp_ratio'] * dim, dim))

    def forward(self, h):
      x = self.ln_attn(h)
      b, s, _ = x.shape
      split = lambda t: t.view(b, s, heads, dim // heads).transpose(1, 2)
      q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
      weights = torch.softmax(q @ k.transpose(-1, -2) / (dim // heads)**0.5, dim=-1)
      h = h + self.o((weights @ v).transpose(1, 2).reshape(b, s, dim))
      return h + self.mlp(self.ln_mlp(h))

  class Encoder(nn.Module):
    def __init__(self):
      super().__init__()
      self.token, self.position = nn.Embedding(2, dim), nn.Parameter(torch.randn(N_IN, dim))
      self.blocks = nn.Sequential(*(Block() for _ in range(TFM['layers'])))
      self.ln_final, self.readout = nn.LayerNorm(dim), nn.Linear(dim, 1)

    def forward(self, x):
      h = self.token((x > 0).long()) + self.position
      return self.readout(self.ln_final(self.blocks(h)).mean(dim=1))

  return Encoder


def torch_model(torch, w):
  if w.get('transformer'):
    return torch_transformer_class(torch)()
  layers, width_in = [], N_IN
  for _ in range(w['hidden_layers']):
    layers += [torch.nn.Linear(width_in, WIDTH), torch.nn.ReLU()]
    width_in = WIDTH
  return torch.nn.Sequential(*layers, torch.nn.Linear(width_in, 1))


def torch_loop_contender(torch, w):
  x_pool, y_pool = torch_data(torch, w)
  model = torch_model(torch, w)
  opt = (torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0)
         if w.get('transformer') else torch.optim.SGD(model.parameters(), lr=LR))
  steps = w['torch_steps']

  def run():
    for _ in range(steps):
      if w['full_batch']:
        x, y = x_pool, y_pool
      else:
        index = torch.randint(0, w['dataset_size'], (w['batch'],))
        x, y = x_pool[index], y_pool[index]
      loss = torch.clamp(1 - y * model(x).squeeze(-1), min=0).mean()
      opt.zero_grad(set_to_none=True)
      loss.backward()
      opt.step()
    return steps

  run()
  return {}, run


def torch_vmap_contender(torch, w, size):
  from torch.func import functional_call, grad, stack_module_state, vmap
  x_pool, y_pool = torch_data(torch, w)
  models = [torch_model(torch, w) for _ in range(size)]
  params, buffers = stack_module_state(models)
  params = {k: v.detach() for k, v in params.items()}
  base = copy.deepcopy(models[0]).to('meta')

  def loss(p, b, x, y):
    return torch.clamp(1 - y * functional_call(base, (p, b), (x,)).squeeze(-1), min=0).mean()

  grads = vmap(grad(loss), in_dims=(0, 0, None, None) if w['full_batch'] else (0, 0, 0, 0))
  steps = w['vmap_steps']
  moments = {k: (torch.zeros_like(v), torch.zeros_like(v)) for k, v in params.items()}
  count = [0]

  def update(name, g):
    if not w.get('transformer'):  # SGD
      params[name].sub_(LR * g)
      return
    m, v = moments[name]  # AdamW as torch.optim.AdamW computes it, on the stacked ensemble
    m.mul_(0.9).add_(g, alpha=0.1)
    v.mul_(0.999).addcmul_(g, g, value=0.001)
    t = count[0]
    params[name].sub_(1e-3 * (m / (1 - 0.9**t)) / ((v / (1 - 0.999**t)).sqrt() + 1e-8))

  def run():
    with torch.no_grad():
      for _ in range(steps):
        if w['full_batch']:
          x, y = x_pool, y_pool
        else:
          index = torch.randint(0, w['dataset_size'], (size, w['batch']))
          x, y = x_pool[index], y_pool[index]
        g = grads(params, buffers, x, y)
        count[0] += 1
        for name in params:
          update(name, g[name])
    return size * steps

  run()
  return {}, run


def matmuls_only_contender(w, chunk):
  """The ceiling for sslgap's step: its matrix products alone (forward, input and weight
  gradients), vmapped and sharded like a chunk, with no sampling, activations or update."""
  from jax.sharding import Mesh, NamedSharding, PartitionSpec
  rows, steps = w['batch'], _STEPS.value
  shapes = [N_IN] + [WIDTH] * w['hidden_layers'] + [1]

  def run(weights, x):
    def step(weights, _):
      acts = [x]
      for wt in weights:
        acts.append(acts[-1] @ wt)
      grad, new = acts[-1], []
      for i in reversed(range(len(weights))):
        new.append(weights[i] - 1e-9 * (acts[i].T @ grad))
        if i:
          grad = grad @ weights[i].T
      return new[::-1], None
    return jax.lax.scan(step, weights, None, length=steps)[0]

  sharding = NamedSharding(Mesh(np.asarray(jax.local_devices()), ('runs',)), PartitionSpec('runs'))
  kernel = jax.jit(jax.vmap(run), in_shardings=sharding, out_shardings=sharding)
  weights = [jnp.full((chunk, a, b), 0.01) for a, b in zip(shapes[:-1], shapes[1:])]
  x = jnp.ones((chunk, rows, N_IN))
  jax.block_until_ready(kernel(weights, x))
  return {}, lambda: (jax.block_until_ready(kernel(weights, x)), chunk * steps)[1]


def matmul_contender():
  n = 4096
  # a matmul's speed does not depend on its values: constant operands (jit arguments, so not folded), not
  # 2 x 16.8M normal draws, which took 5 s of each benchmark process the test suite starts (the suite
  # compiles without optimisations)
  a = jnp.full((n, n), 0.5, jnp.float32)
  b = jnp.full((n, n), 0.25, jnp.float32)
  product = jax.jit(jnp.matmul)
  product(a, b).block_until_ready()
  return {}, lambda: (product(a, b).block_until_ready(), 2 * n**3)[1]


# --- measurement ---------------------------------------------------------------------------

def measure(contenders, rounds):
  """{name: median rate} over interleaved rounds of every contender."""
  rates = {name: [] for name in contenders}
  for _ in range(rounds):
    for name, (_, fn) in contenders.items():
      start = time.perf_counter()
      work = fn()
      rates[name].append(work / (time.perf_counter() - start))
  return {name: statistics.median(r) for name, r in rates.items()}


def bench_workload(name, w, torch):
  flop_per_run_step = flop_count(w)
  contenders = {}
  chunks = [int(c) for c in (_CHUNKS.value or w['chunks'])]
  for chunk in chunks:
    contenders[f'sslgap chunk={chunk}'] = sslgap_contender(w, chunk)
  if torch is not None:
    contenders['torch_loop'] = torch_loop_contender(torch, w)
    for size in [int(s) for s in (_ENSEMBLES.value or w['ensembles'])]:
      contenders[f'torch_vmap ensemble={size}'] = torch_vmap_contender(torch, w, size)
  if name == 'mlp':
    contenders['(ceiling) matmuls alone'] = matmuls_only_contender(w, chunks[min(1, len(chunks) - 1)])
  contenders['matmul_peak'] = matmul_contender()
  rates = measure(contenders, _ROUNDS.value)
  peak = rates.pop('matmul_peak')
  best = lambda prefix: max(((k, v) for k, v in rates.items() if k.startswith(prefix)),
                            key=lambda kv: kv[1], default=(None, None))
  figures = {
      'flop_per_run_step': flop_per_run_step,
      'matmul_peak_flops': peak,
      'rates': rates,
      'compile_s': {k: v[0]['compile_s'] for k, v in contenders.items() if 'compile_s' in v[0]},
      'bytes_per_run_estimate': contenders[f'sslgap chunk={chunks[0]}'][0]['bytes_per_run'],
  }
  for prefix, key in (('sslgap', 'sslgap'), ('torch_loop', 'torch_loop'), ('torch_vmap', 'torch_vmap')):
    label, rate = best(prefix)
    figures[f'{key}_run_steps_per_s'] = rate
    figures[f'{key}_best'] = label
  figures['sslgap_flops'] = figures['sslgap_run_steps_per_s'] * flop_per_run_step
  print_table(name, w, figures)
  if name == 'mlp':
    hours = PAPER_FIG6_RUNS * PAPER_FIG6_STEPS / figures['sslgap_run_steps_per_s'] / 3600
    print(f'projected Figure 6 sweep ({PAPER_FIG6_RUNS / 1e6:.0f} million runs of {PAPER_FIG6_STEPS} steps) '
          f'at this rate: {hours:,.1f} hours on this device')
    figures['projected_fig6_hours'] = hours
  return figures


def print_table(name, w, f):
  shape = ('encoder of {layers} layers, dim {dim}, {heads} heads'.format(**TFM) if w.get('transformer')
           else f'{w["hidden_layers"]} hidden layer(s) of {WIDTH}')
  print(f'\n== {name}: {shape}, '
        f'{"full batch N" if w["full_batch"] else "batch"} {w["batch"]}, '
        f'{f["flop_per_run_step"] / 1e6:.2f} MFLOP per run-step, '
        f'device: {jax.devices()[0].device_kind} x {jax.local_device_count()}')
  loop, vmapped = f['torch_loop_run_steps_per_s'], f['torch_vmap_run_steps_per_s']
  print(f'{"contender":<28}{"run-steps/s":>13}{"GFLOP/s":>10}{"% peak":>8}{"x loop":>8}{"x vmap":>8}{"compile s":>11}')
  for label, rate in sorted(f['rates'].items(), key=lambda kv: -kv[1]):
    flops = rate * f['flop_per_run_step']
    ratio = lambda base: f'{rate / base:8.2f}' if base else f'{"-":>8}'
    compile_s = f['compile_s'].get(label)
    print(f'{label:<28}{rate:>13,.0f}{flops / 1e9:>10.1f}{100 * flops / f["matmul_peak_flops"]:>8.1f}'
          f'{ratio(loop)}{ratio(vmapped)}{"-" if compile_s is None else f"{compile_s:.1f}":>11}')
  print(f'{"matmul_peak (XLA 4096^2)":<28}{"":>13}{f["matmul_peak_flops"] / 1e9:>10.1f}{100.0:>8.1f}')
  if loop:
    best = f['sslgap_run_steps_per_s']
    print(f'sslgap best ({f["sslgap_best"]}): {best / loop:.1f}x the torch loop, {best / vmapped:.2f}x the best '
          f'torch.func ensemble ({f["torch_vmap_best"]}), '
          f'{100 * f["sslgap_flops"] / f["matmul_peak_flops"]:.0f}% of the matmul peak; '
          f'estimated memory {f["bytes_per_run_estimate"] / 1e6:.2f} MB per run')


def main(argv):
  del argv
  try:
    import torch
    torch.set_num_threads(os.cpu_count() or 1)
  except ImportError:
    torch = None
    print("PyTorch is not installed, so the torch rows are skipped: pip install -e '.[bench]' "
          '(CPU build: pip install torch --index-url https://download.pytorch.org/whl/cpu)')
  report = {}
  for name in _WORKLOADS.value:
    report[name] = bench_workload(name, WORKLOADS[name], torch)
  if _JSON.value:
    headline = report.get('mlp', next(iter(report.values())))
    keys = ('sslgap_run_steps_per_s', 'torch_loop_run_steps_per_s', 'torch_vmap_run_steps_per_s',
            'matmul_peak_flops', 'sslgap_flops')
    out = {k: headline[k] for k in keys}
    out['workloads'] = report
    out['device'] = f'{jax.devices()[0].device_kind} x {jax.local_device_count()}'
    with open(_JSON.value, 'w') as f:
      json.dump(out, f, indent=1)
    print(f'\nwrote {_JSON.value}')


if __name__ == '__main__':
  app.run(main)
