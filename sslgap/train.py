"""One training run as a pure function of its traced hyper-parameters.

`make_run(spec)` reads only the run spec (sslgap.spec) and returns `run(hp, data) -> metrics`,
one `lax.scan` over evaluation intervals. `hp` is a pytree of traced scalars (per-group
multipliers as mappings, the data schedule as per-phase vectors; sslgap.hparams), so
`jax.vmap(run, in_axes=(0, None))` trains a whole chunk of a sweep in one kernel, all of it
reading the same data pool. The run is assembled from parts chosen when it is built: a
gradient source (sslgap.sources), a schedule (sslgap.schedules) and an evaluator.
"""

import jax
import jax.numpy as jnp
import optax

from sslgap import evaluation
from sslgap import losses
from sslgap import models
from sslgap import optim
from sslgap import parameterization
from sslgap import schedules
from sslgap import sources


class Run:
  """The static parts of a run, from its spec; train(hp, data) is the run itself."""

  def __init__(self, spec):
    self.spec = spec
    self.net = spec.model.build()
    self.loss_fn = losses.LOSSES[spec.loss]
    self.examples = sources.Examples(spec)
    self.evaluator = evaluation.Evaluator(spec, self.examples, self.apply, self.loss_fn)
    self.gradients = sources.make(spec, self.examples, self.mean_loss, self.apply, self.loss_fn)
    self.schedule = schedules.make(spec, self.examples, self.evaluator)

  def apply(self, params, x):
    return self.net.apply({'params': params}, x)

  def mean_loss(self, params, x, y):
    return jnp.mean(self.loss_fn(self.apply(params, x), y))

  def init_params(self, hp, key):
    """PyTorch-default parameters times each group's init scale (and alpha, and a parameterisation's)."""
    dummy_x = jnp.zeros((1,) + self.spec.task.example_shape, self.spec.task.x_dtype)
    params = self.net.init(key, dummy_x)['params']
    scales = dict(hp['init_scale'])
    if 'alpha' in hp:  # alpha-scaling: first layer / alpha, every later layer x alpha
      scales = {g: v / hp['alpha'] if g == 'first' else v * hp['alpha'] for g, v in scales.items()}
    layer_groups = models.layer_groups(params, self.spec.group_rules)
    init_mult, _ = self.spec.model.multipliers(params)
    params = parameterization.scale(params, models.group_multipliers(layer_groups, scales))
    return parameterization.scale(params, init_mult), layer_groups

  def make_optimizer(self, hp, params, layer_groups):
    mults = models.group_multipliers(layer_groups, hp['lr_mult'])
    _, lr_mult = self.spec.model.multipliers(params)
    return optim.make_optimizer(self.spec.optimizer, self.spec.eps, hp, parameterization.scale(mults, lr_mult))

  def train(self, hp, data):
    """Returns (final params, metrics dict of [num_evals] arrays)."""
    spec = self.spec
    key = jax.random.key(hp['seed'])
    init_key, batch_key, epoch_key, probe_key = jax.random.split(key, 4)
    params, layer_groups = self.init_params(hp, init_key)
    optimizer = self.make_optimizer(hp, params, layer_groups)
    bias = self.examples.online_bias(hp, data)
    eval_every = spec.train.eval_every

    def train_step(carry, step):
      params, opt_state, state = carry
      state = self.schedule.at(state, hp, params, data, step)
      grads = self.gradients.grads(params, data, hp, state, step, batch_key, epoch_key, bias, layer_groups)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state, state), None

    def interval(carry, i):
      carry, _ = jax.lax.scan(train_step, carry, i * eval_every + jnp.arange(eval_every))
      state = self.schedule.after_interval(carry[2], hp, (i + 1) * eval_every)
      return carry, self.evaluator.evaluate(carry[0], data, hp, state, jax.random.fold_in(probe_key, i + 1), bias)

    start = schedules.start()
    first = self.evaluator.evaluate(params, data, hp, start, jax.random.fold_in(probe_key, 0), bias)
    carry = (params, optimizer.init(params), start)
    carry, later = jax.lax.scan(interval, carry, jnp.arange(spec.train.steps // eval_every))
    metrics = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, later)
    return carry[0], metrics


def make_run(spec):
  """The pure run(hp, data) -> metrics of a run spec."""
  if spec.trains_itself:
    return spec.model.make_run(spec)
  run = Run(spec)
  return lambda hp, data: run.train(hp, data)[1]
