"""One training run as a pure function of its traced hyper-parameters.

`make_run(config)` reads only the static parts of the config and returns
`run(hp, data) -> metrics`, one `lax.scan` over evaluation intervals. `hp` is a dict of
traced scalars (and per-phase vectors), so `jax.vmap(run, in_axes=(0, None))` trains a
whole chunk of a sweep in one kernel, all of it reading the same data pool.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sslgap import data as data_lib
from sslgap import hparams
from sslgap import losses
from sslgap import models
from sslgap import optim
from sslgap import tasks


def eval_steps(config):
  return np.arange(0, config.train.steps + 1, config.train.eval_every)


def metric_names(config):
  task = tasks.make_task(config.task)
  names = ['test_loss', 'train_loss']
  if task.label_kind == 'sign':
    names += ['test_acc', 'train_acc']
  groups = [f'hidden_{i}' for i in range(config.model.hidden_layers)] + ['readout']
  return names + [f'norm_{g}' for g in groups]


AUTO_MICROBATCH = '1024 examples on a CPU (cache-sized), 65536 on an accelerator'


def full_batch_microbatch(config):
  """Examples per slice of a full-batch gradient; 0 in the config picks one for the platform."""
  if config.data.full_batch_microbatch:
    return config.data.full_batch_microbatch
  return 1024 if jax.default_backend() == 'cpu' else 65536


def padded_slices(x, y, mask, size):
  """Splits [n, ...] arrays into [ceil(n / size), size, ...] slices, padding with zero weight."""
  n = x.shape[0]
  count = -(-n // size)
  pad = count * size - n
  w = jnp.ones((n,), jnp.float32) if mask is None else mask.astype(jnp.float32)
  split = lambda a: jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape((count, size) + a.shape[1:])
  return split(x), split(y), split(w)


class Trainer:
  """The static parts of a run: task, model, loss, optimiser kind and data plan."""

  def __init__(self, config, pool_size):
    self.config = config
    self.task = tasks.make_task(config.task)
    self.model = models.make_model(config.model)
    self.loss_fn = losses.LOSSES[config.loss]
    self.groups = hparams.layer_group_names(config)
    self.pool_size = pool_size
    self.batch_size = config.train.batch_size
    self.full_batch = config.data.mode == 'full_batch'
    self.uses_online = (not self.full_batch) and hparams.uses_online(config)
    self.probe_size = min(config.data.eval_train_size, pool_size)

  # --- parameters ---------------------------------------------------------
  def init_params(self, hp, key):
    dummy_x = jnp.zeros((1, tasks.input_dim(self.task)), jnp.float32)
    params = self.model.init(key, dummy_x)['params']
    scales = {g: hp[f'init_scale_{g}'] for g in self.groups}
    layer_groups = models.layer_groups(params, self.config.model.layer_groups)
    params = jax.tree_util.tree_map(lambda p, s: p * s, params,
                                    models.group_multipliers(layer_groups, scales))
    return params, layer_groups

  def make_optimizer(self, hp, layer_groups):
    mults = {g: hp[f'lr_mult_{g}'] for g in self.groups}
    return optim.make_optimizer(self.config.optim, hp, models.group_multipliers(layer_groups, mults))

  # --- data ---------------------------------------------------------------
  def schedule(self, hp):
    if self.full_batch:
      sizes, lengths = hparams.static_phases(self.config)
      sizes, lengths = jnp.asarray(sizes, jnp.int32), jnp.asarray(lengths, jnp.int32)
    else:
      sizes, lengths = hp['phase_sizes'], hp['phase_lengths']
      if self.config.data.phase_unit == 'epochs':
        lengths = lengths * jnp.maximum(sizes[:-1] // self.batch_size, 1)
    ends = jnp.concatenate([jnp.cumsum(lengths), jnp.array([self.config.train.steps])])
    return data_lib.Schedule(sizes, ends.astype(jnp.int32))

  def minibatch(self, data, schedule, step, step_key, epoch_key):
    index, online = data_lib.batch_indices(schedule, step, self.batch_size,
                                           self.config.data.sampling, step_key, epoch_key)
    if self.pool_size == 0:
      return self.task.sample(data.target, step_key, self.batch_size)
    x, y = data.pool_x[index], data.pool_y[index]
    if self.uses_online:
      x_new, y_new = self.task.sample(data.target, jax.random.fold_in(step_key, 1), self.batch_size)
      x, y = jnp.where(online, x_new, x), jnp.where(online, y_new, y)
    return x, y

  def full_batch_grads(self, params, data, step):
    """Gradient of the mean loss over the current phase's whole dataset (static sizes).

    The dataset is summed in slices of full_batch_microbatch(config) examples, so activation
    memory stays bounded for N up to the whole population (and in cache on a CPU).
    """
    sizes, lengths = hparams.static_phases(self.config)
    phase = jnp.sum(step >= jnp.cumsum(jnp.asarray(lengths, jnp.int32)))
    micro = full_batch_microbatch(self.config)

    def grads_on_prefix(size):
      x, y = data.pool_x[:size], data.pool_y[:size]
      if size <= micro:
        return lambda p: jax.grad(self.mean_loss)(p, x, y)
      xs, ys, ws = padded_slices(x, y, None, micro)
      summed_loss = lambda p, x, y, w: jnp.sum(self.loss_fn(self.model.apply({'params': p}, x), y) * w)

      def accumulate(total, batch):
        return jax.tree_util.tree_map(jnp.add, total, jax.grad(summed_loss)(params, *batch)), None

      def grads(p):
        total, _ = jax.lax.scan(accumulate, jax.tree_util.tree_map(jnp.zeros_like, p), (xs, ys, ws))
        return jax.tree_util.tree_map(lambda g: g / size, total)
      return grads

    return jax.lax.switch(phase, [grads_on_prefix(s) for s in sizes], params)

  def mean_loss(self, params, x, y):
    return jnp.mean(self.loss_fn(self.model.apply({'params': params}, x), y))

  # --- evaluation ---------------------------------------------------------
  def measure(self, params, x, y, mask=None):
    """Mean loss (and sign accuracy) over x, in slices of data.eval_batch_size examples."""
    sign = self.task.label_kind == 'sign'

    def add_slice(totals, batch):
      x, y, w = batch
      f = self.model.apply({'params': params}, x)
      terms = [jnp.sum(w), jnp.sum(self.loss_fn(f, y) * w)]
      if sign:
        terms.append(jnp.sum((y * f > 0) * w))
      return [t + u for t, u in zip(totals, terms)], None

    batches = padded_slices(x, y, mask, min(self.config.data.eval_batch_size, x.shape[0]))
    totals, _ = jax.lax.scan(add_slice, [jnp.float32(0)] * (3 if sign else 2), batches)
    count = jnp.maximum(totals[0], 1.0)
    out = {'loss': totals[1] / count}
    if sign:
      out['acc'] = totals[2] / count
    return out

  def evaluate(self, params, data, schedule, step, probe_key):
    metrics = {f'test_{k}': v for k, v in self.measure(params, data.test_x, data.test_y).items()}
    _, _, size = data_lib.current_phase(schedule, step)
    if self.probe_size > 0:
      x, y = data.pool_x[:self.probe_size], data.pool_y[:self.probe_size]
      train = self.measure(params, x, y, mask=jnp.arange(self.probe_size) < size)
    if self.uses_online or self.probe_size == 0:
      x, y = self.task.sample(data.target, probe_key, self.config.data.eval_train_size)
      online = self.measure(params, x, y)
      train = online if self.probe_size == 0 else jax.tree_util.tree_map(
          lambda a, b: jnp.where(size == data_lib.ONLINE, a, b), online, train)
    metrics.update({f'train_{k}': v for k, v in train.items()})
    metrics.update({f'norm_{k}': v for k, v in models.layer_norms(params).items()})
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree_util.tree_leaves(params)]))
    return {k: jnp.where(finite, v, jnp.nan) for k, v in metrics.items()}

  # --- the run ------------------------------------------------------------
  def train(self, hp, data):
    """Returns (final params, metrics dict of [num_evals] arrays)."""
    key = jax.random.key(hp['seed'])
    init_key, batch_key, epoch_key, probe_key = jax.random.split(key, 4)
    params, layer_groups = self.init_params(hp, init_key)
    optimizer = self.make_optimizer(hp, layer_groups)
    schedule = self.schedule(hp)
    eval_every = self.config.train.eval_every
    num_intervals = self.config.train.steps // eval_every

    def train_step(state, step):
      params, opt_state = state
      step_key = jax.random.fold_in(batch_key, step)
      if self.full_batch:
        grads = self.full_batch_grads(params, data, step)
      else:
        x, y = self.minibatch(data, schedule, step, step_key, epoch_key)
        grads = jax.grad(self.mean_loss)(params, x, y)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), None

    def interval(state, i):
      steps = i * eval_every + jnp.arange(eval_every)
      state, _ = jax.lax.scan(train_step, state, steps)
      end = (i + 1) * eval_every
      return state, self.evaluate(state[0], data, schedule, end, jax.random.fold_in(probe_key, i + 1))

    first = self.evaluate(params, data, schedule, 0, jax.random.fold_in(probe_key, 0))
    state = (params, optimizer.init(params))
    state, later = jax.lax.scan(interval, state, jnp.arange(num_intervals))
    metrics = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, later)
    return state[0], metrics


def make_run(config, pool_size):
  """The pure run for a static config; pool_size is the number of pooled examples it may read."""
  trainer = Trainer(config, pool_size)
  return lambda hp, data: trainer.train(hp, data)[1]
