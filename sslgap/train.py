"""One training run as a pure function of its traced hyper-parameters.

`make_run(config)` reads only the static parts of the config and returns
`run(hp, data) -> metrics`, one `lax.scan` over evaluation intervals. `hp` is a dict of
traced scalars (and per-phase vectors), so `jax.vmap(run, in_axes=(0, None))` trains a
whole chunk of a sweep in one kernel, all of it reading the same data pool.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

from sslgap import data as data_lib
from sslgap import hparams
from sslgap import losses
from sslgap import models
from sslgap import optim
from sslgap import parameterization
from sslgap import tasks
from sslgap import transformer


def eval_steps(config):
  return np.arange(0, config.train.steps + 1, config.train.eval_every)


def metric_names(config):
  if config.model.kind == 'quadratic_neuron':
    from sslgap import theory
    return list(theory.METRICS)
  task = tasks.make_task(config.task)
  names = ['test_loss', 'train_loss']
  if task.label_kind in ('sign', 'class'):
    names += ['test_acc', 'train_acc']
  if config.model.kind == 'transformer':
    return names + [f'norm_{g}' for g in hparams.layer_group_names(config)]
  layers = [f'hidden_{i}' for i in range(config.model.hidden_layers)] + ['readout']
  return names + [f'norm_{layer}' for layer in layers]


def build_model(model_config, task):
  if model_config.kind == 'transformer':
    return transformer.make_transformer(model_config, task)
  return models.make_model(model_config)


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


class PhaseState(NamedTuple):
  """Where a run is in its data schedule; carried through the scan (the auto-schedule moves it)."""

  phase: jax.Array  # int32
  start: jax.Array  # int32, the phase's first step


class Trainer:
  """The static parts of a run: task, model, loss, optimiser kind and data plan."""

  def __init__(self, config, pool_size):
    self.config = config
    self.task = tasks.make_task(config.task)
    self.model = build_model(config.model, self.task)
    self.loss_fn = losses.LOSSES[config.loss]
    self.groups = hparams.layer_group_names(config)
    self.pool_size = pool_size
    self.batch_size = config.train.batch_size
    self.full_batch = config.data.mode == 'full_batch'
    self.auto = config.data.schedule == 'auto'
    self.online_groups = () if self.full_batch else tuple(config.data.online_groups)
    self.uses_fresh = not self.full_batch and (hparams.uses_fresh_samples(config) or bool(self.online_groups))
    self.uses_random_labels = hparams.uses_random_labels(config)
    self.uses_online_bias = (not self.full_batch) and hparams.uses_online_bias(config)
    self.probe_size = min(config.data.eval_train_size, pool_size)

  # --- parameters ---------------------------------------------------------
  def init_params(self, hp, key):
    dummy_x = jnp.zeros((1,) + self.task.example_shape, self.task.x_dtype)
    params = self.model.init(key, dummy_x)['params']
    scales = {g: hp[f'init_scale_{g}'] for g in self.groups}
    if 'alpha' in hp:  # alpha-scaling: first layer / alpha, every later layer x alpha
      scales = {g: v / hp['alpha'] if g == 'first' else v * hp['alpha'] for g, v in scales.items()}
    layer_groups = models.layer_groups(params, self.config.model.layer_groups)
    init_mult, _ = parameterization.multipliers(self.config.model.parameterization, params)
    params = parameterization.scale(params, models.group_multipliers(layer_groups, scales))
    return parameterization.scale(params, init_mult), layer_groups

  def make_optimizer(self, hp, params, layer_groups):
    mults = models.group_multipliers(layer_groups, {g: hp[f'lr_mult_{g}'] for g in self.groups})
    _, lr_mult = parameterization.multipliers(self.config.model.parameterization, params)
    return optim.make_optimizer(self.config.optim, hp, parameterization.scale(mults, lr_mult))

  # --- schedule -----------------------------------------------------------
  def phase_sizes(self, hp):
    if self.full_batch:
      return jnp.asarray(hparams.static_phases(self.config)[0], jnp.int32)
    return jnp.asarray(hp['phase_sizes'])

  def phase_ends(self, hp):
    """Steps at which each phase of a fixed schedule ends (the last at train.steps)."""
    if self.full_batch:
      lengths = jnp.asarray(hparams.static_phases(self.config)[1], jnp.int32)
    else:
      lengths = hp['phase_lengths']
      if self.config.data.phase_unit == 'epochs':
        lengths = lengths * jnp.maximum(hp['phase_sizes'][:-1] // self.batch_size, 1)
    return jnp.concatenate([jnp.cumsum(lengths), jnp.array([self.config.train.steps])]).astype(jnp.int32)

  def next_phase_state(self, state, hp, params, data, step):
    """The phase at `step`: from the fixed ends, or by the auto-schedule's rule.

    Auto: every data.auto_check_every steps, move on when the train accuracy on (up to
    data.auto_probe_size examples of) the current subset reaches hp.auto_train_acc, or after
    hp.auto_max_epochs epochs of it; the last phase runs to the end.
    """
    if not self.auto:
      return PhaseState(*data_lib.phase_at(self.phase_ends(hp), step))
    sizes = self.phase_sizes(hp)
    probe = min(self.config.data.auto_probe_size, self.pool_size)

    def check(state):
      size = sizes[state.phase]
      labels = self.labels_at(data.pool_y[:probe], data.pool_y_random[:probe], hp, state.phase)
      acc = self.measure(params, data.pool_x[:probe], labels, mask=jnp.arange(probe) < size)['acc']
      epochs = (step - state.start) * self.batch_size / jnp.maximum(size, 1)
      move = ((acc >= hp['auto_train_acc']) | (epochs >= hp['auto_max_epochs'])) & (state.phase < sizes.shape[0] - 1)
      return PhaseState(jnp.where(move, state.phase + 1, state.phase), jnp.where(move, step, state.start))

    every = self.config.data.auto_check_every
    return jax.lax.cond((step > 0) & (step % every == 0), check, lambda s: s, state)

  # --- data ---------------------------------------------------------------
  def labels_at(self, y, y_random, hp, phase):
    if not self.uses_random_labels:
      return y
    return jnp.where(phase < hp['random_label_phases'], y_random, y)

  def online_bias(self, hp, data):
    """Per-coordinate P(x_i = +1) of the first hp.online_bias_samples pool examples (1/2 if 0)."""
    m = hp['online_bias_samples']
    rows = (jnp.arange(self.pool_size) < m).astype(jnp.float32)
    plus = rows @ (data.pool_x == 1).astype(jnp.float32) / jnp.maximum(m, 1)
    return jnp.where(m > 0, plus, 0.5)

  def fresh(self, data, hp, key, phase, num, bias):
    if self.uses_online_bias:
      x, y = self.task.sample_biased(data.target, key, num, bias)
    else:
      x, y = self.task.sample(data.target, key, num)
    if self.uses_random_labels:
      y = self.labels_at(y, self.task.random_labels(data.target, jax.random.fold_in(key, 1), x), hp, phase)
    return x, y

  def minibatch(self, data, hp, state, size, step, step_key, epoch_key, bias):
    """The step's batch: from the current subset, or fresh when the phase is online; with
    hp.pool_fraction < 1 only that leading fraction of it comes from the subset (two-set)."""
    if self.pool_size == 0:
      return self.fresh(data, hp, step_key, state.phase, self.batch_size, bias)
    index = data_lib.batch_indices(state.phase, state.start, size, step, self.batch_size,
                                   self.config.data.sampling, step_key, epoch_key)
    x = data.pool_x[index]
    y = self.labels_at(data.pool_y[index], data.pool_y_random[index], hp, state.phase)
    if self.uses_fresh:
      x_new, y_new = self.fresh(data, hp, jax.random.fold_in(step_key, 1), state.phase, self.batch_size, bias)
      from_pool = ((size != data_lib.ONLINE) &
                   (jnp.arange(self.batch_size) < jnp.ceil(hp['pool_fraction'] * self.batch_size)))
      x = jnp.where(from_pool.reshape((-1,) + (1,) * (x.ndim - 1)), x, x_new)
      y = jnp.where(from_pool, y, y_new)
    return x, y

  def full_batch_grads(self, params, data, hp, step):
    """Gradient of the mean loss over the current phase's whole dataset (static sizes).

    The dataset is summed in slices of full_batch_microbatch(config) examples, so activation
    memory stays bounded for N up to the whole population (and in cache on a CPU).
    """
    sizes, lengths = hparams.static_phases(self.config)
    phase = jnp.sum(step >= jnp.cumsum(jnp.asarray(lengths, jnp.int32)))
    micro = full_batch_microbatch(self.config)
    labels = self.labels_at(data.pool_y, data.pool_y_random, hp, phase)

    def grads_on_prefix(size):
      x, y = data.pool_x[:size], labels[:size]
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
    """Mean loss (and accuracy: of sign(f), or of the arg-max class) over x, in slices of
    data.eval_batch_size examples."""
    kind = self.task.label_kind
    counts_accuracy = kind in ('sign', 'class')

    def add_slice(totals, batch):
      x, y, w = batch
      f = self.model.apply({'params': params}, x)
      terms = [jnp.sum(w), jnp.sum(self.loss_fn(f, y) * w)]
      if counts_accuracy:
        correct = (y * f > 0) if kind == 'sign' else (jnp.argmax(f, axis=-1) == y)
        terms.append(jnp.sum(correct * w))
      return [t + u for t, u in zip(totals, terms)], None

    batches = padded_slices(x, y, mask, min(self.config.data.eval_batch_size, x.shape[0]))
    totals, _ = jax.lax.scan(add_slice, [jnp.float32(0)] * (3 if counts_accuracy else 2), batches)
    count = jnp.maximum(totals[0], 1.0)
    out = {'loss': totals[1] / count}
    if counts_accuracy:
      out['acc'] = totals[2] / count
    return out

  def weight_norms(self, params):
    if self.config.model.kind == 'transformer':
      return transformer.group_norms(params, self.config.model.layer_groups)
    return models.layer_norms(params)

  def evaluate(self, params, data, hp, state, probe_key, bias):
    """Test metrics, train metrics on (up to data.eval_train_size examples of) the data being
    trained on, with the labels being trained on, and each layer's weight norm."""
    metrics = {f'test_{k}': v for k, v in self.measure(params, data.test_x, data.test_y).items()}
    size = self.phase_sizes(hp)[state.phase]
    if self.probe_size > 0:
      probe = slice(0, self.probe_size)
      labels = self.labels_at(data.pool_y[probe], data.pool_y_random[probe], hp, state.phase)
      train = self.measure(params, data.pool_x[probe], labels, mask=jnp.arange(self.probe_size) < size)
    if self.uses_fresh or self.probe_size == 0:
      x, y = self.fresh(data, hp, probe_key, state.phase, self.config.data.eval_train_size, bias)
      online = self.measure(params, x, y)
      train = online if self.probe_size == 0 else jax.tree_util.tree_map(
          lambda a, b: jnp.where(size == data_lib.ONLINE, a, b), online, train)
    metrics.update({f'train_{k}': v for k, v in train.items()})
    metrics.update({f'norm_{k}': v for k, v in self.weight_norms(params).items()})
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree_util.tree_leaves(params)]))
    return {k: jnp.where(finite, v, jnp.nan) for k, v in metrics.items()}

  # --- the run ------------------------------------------------------------
  def train(self, hp, data):
    """Returns (final params, metrics dict of [num_evals] arrays)."""
    key = jax.random.key(hp['seed'])
    init_key, batch_key, epoch_key, probe_key = jax.random.split(key, 4)
    params, layer_groups = self.init_params(hp, init_key)
    optimizer = self.make_optimizer(hp, params, layer_groups)
    bias = self.online_bias(hp, data) if self.uses_online_bias else None
    eval_every = self.config.train.eval_every
    num_intervals = self.config.train.steps // eval_every

    def train_step(carry, step):
      params, opt_state, state = carry
      state = self.next_phase_state(state, hp, params, data, step)
      if self.full_batch:
        grads = self.full_batch_grads(params, data, hp, step)
      else:
        size = self.phase_sizes(hp)[state.phase]
        step_key = jax.random.fold_in(batch_key, step)
        x, y = self.minibatch(data, hp, state, size, step, step_key, epoch_key, bias)
        grads = jax.grad(self.mean_loss)(params, x, y)
        if self.online_groups:  # Fig 30: these groups learn from fresh batches, the rest from the subset
          x, y = self.fresh(data, hp, jax.random.fold_in(step_key, 2), state.phase, self.batch_size, bias)
          online = jax.grad(self.mean_loss)(params, x, y)
          grads = jax.tree_util.tree_map(lambda g, o, group: o if group in self.online_groups else g,
                                         grads, online, layer_groups)
      updates, opt_state = optimizer.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state, state), None

    def interval(carry, i):
      carry, _ = jax.lax.scan(train_step, carry, i * eval_every + jnp.arange(eval_every))
      end = (i + 1) * eval_every
      state = carry[2] if self.auto else PhaseState(*data_lib.phase_at(self.phase_ends(hp), end))
      return carry, self.evaluate(carry[0], data, hp, state, jax.random.fold_in(probe_key, i + 1), bias)

    start = PhaseState(jnp.int32(0), jnp.int32(0))
    first = self.evaluate(params, data, hp, start, jax.random.fold_in(probe_key, 0), bias)
    carry = (params, optimizer.init(params), start)
    carry, later = jax.lax.scan(interval, carry, jnp.arange(num_intervals))
    metrics = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, later)
    return carry[0], metrics


def make_run(config, pool_size):
  """The pure run for a static config; pool_size is the number of pooled examples it may read."""
  if config.model.kind == 'quadratic_neuron':
    from sslgap import theory
    return theory.make_run(config, pool_size)
  trainer = Trainer(config, pool_size)
  return lambda hp, data: trainer.train(hp, data)[1]
