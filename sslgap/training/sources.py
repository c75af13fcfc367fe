"""Where a step's gradient comes from: the examples a run trains on (its subset, fresh samples,
random labels, biased online inputs) and the gradient sources built on them, one chosen when
the run is built:

  Minibatch     a batch from the current subset (or fresh when the phase is online)
  PerGroup      Minibatch, but the groups in spec.online_groups learn from a fresh batch (Fig 30)
  FullBatch     the mean gradient over the current phase's whole dataset, summed in slices

Each is bound to one run's inputs (sslgap.train.RunInputs: hp, data, keys, layer groups) when
the run starts, so a step asks it only for grads(params, state, step).
"""

import jax
import jax.numpy as jnp

from sslgap.training import data as data_lib
from sslgap.training import evaluation
from sslgap.base import hparams
from sslgap.training import schedules


class Examples:
  """The examples and labels a run sees: pool batches, fresh samples, random-label phases."""

  def __init__(self, spec, run):
    self.spec, self.run = spec, run
    self.bias = self.online_bias()

  def labels_at(self, y, y_random, phase):
    if not self.spec.uses_random_labels:
      return y
    return jnp.where(phase < self.run.hp['random_label_phases'], y_random, y)

  def online_bias(self):
    """Per-coordinate P(x_i = +1) of the first hp.online_bias_samples pool examples (1/2 if 0)."""
    if not self.spec.uses_online_bias:
      return None
    m = self.run.hp['online_bias_samples']
    rows = (jnp.arange(self.spec.pool_size) < m).astype(jnp.float32)
    plus = rows @ (self.run.data.pool_x == 1).astype(jnp.float32) / jnp.maximum(m, 1)
    return jnp.where(m > 0, plus, 0.5)

  def fresh(self, key, phase, num):
    task, target = self.spec.task, self.run.data.target
    if self.spec.uses_online_bias:
      x, y = task.sample_biased(target, key, num, self.bias)
    else:
      x, y = task.sample(target, key, num)
    if self.spec.uses_random_labels:
      y = self.labels_at(y, task.random_labels(target, jax.random.fold_in(key, 1), x), phase)
    return x, y

  def minibatch(self, state, size, step, step_key):
    """The step's batch: from the current subset, or fresh when the phase is online; with
    hp.pool_fraction < 1 only that leading fraction of it comes from the subset (two-set)."""
    spec, data = self.spec, self.run.data
    batch = spec.train.batch_size
    if spec.pool_size == 0:
      return self.fresh(step_key, state.phase, batch)
    index = data_lib.batch_indices(state.phase, state.start, size, step, batch, spec.data.sampling, step_key,
                                   self.run.epoch_key)
    x = data.pool_x[index]
    y = self.labels_at(data.pool_y[index], data.pool_y_random[index], state.phase)
    if spec.uses_fresh:
      x_new, y_new = self.fresh(jax.random.fold_in(step_key, 1), state.phase, batch)
      from_pool = ((size != hparams.ONLINE) &
                   (jnp.arange(batch) < jnp.ceil(self.run.hp['pool_fraction'] * batch)))
      x = jnp.where(from_pool.reshape((-1,) + (1,) * (x.ndim - 1)), x, x_new)
      y = jnp.where(from_pool, y, y_new)
    return x, y


class Minibatch:
  def __init__(self, spec, examples, mean_loss):
    self.spec, self.examples, self.mean_loss = spec, examples, mean_loss

  def batch_grads(self, params, state, step):
    size = schedules.phase_sizes(self.spec, self.examples.run.hp)[state.phase]
    step_key = jax.random.fold_in(self.examples.run.batch_key, step)
    x, y = self.examples.minibatch(state, size, step, step_key)
    return jax.grad(self.mean_loss)(params, x, y), step_key

  def grads(self, params, state, step):
    return self.batch_grads(params, state, step)[0]


class PerGroup(Minibatch):
  """Fig 30: the groups in spec.online_groups learn from fresh batches, the rest from the subset."""

  def grads(self, params, state, step):
    grads, step_key = self.batch_grads(params, state, step)
    x, y = self.examples.fresh(jax.random.fold_in(step_key, 2), state.phase, self.spec.train.batch_size)
    online = jax.grad(self.mean_loss)(params, x, y)
    return jax.tree_util.tree_map(lambda g, o, group: o if group in self.spec.online_groups else g,
                                  grads, online, self.examples.run.layer_groups)


class FullBatch:
  """Gradient of the mean loss over the current phase's whole dataset (static sizes).

  The dataset is summed in slices of spec.full_batch_microbatch examples, so activation
  memory stays bounded for N up to the whole population (and in cache on a CPU).
  """

  def __init__(self, spec, examples, mean_loss, apply, loss_fn):
    self.spec, self.examples, self.mean_loss, self.apply, self.loss_fn = spec, examples, mean_loss, apply, loss_fn

  def grads(self, params, state, step):
    del state  # the phase of full-batch GD is static: from the step
    sizes, lengths = self.spec.static_phases
    data = self.examples.run.data
    phase = jnp.sum(step >= jnp.cumsum(jnp.asarray(lengths, jnp.int32)))
    micro = self.spec.full_batch_microbatch
    labels = self.examples.labels_at(data.pool_y, data.pool_y_random, phase)

    def grads_on_prefix(size):
      x, y = data.pool_x[:size], labels[:size]
      if size <= micro:
        return lambda p: jax.grad(self.mean_loss)(p, x, y)
      xs, ys, ws = evaluation.padded_slices(x, y, None, micro)
      summed_loss = lambda p, x, y, w: jnp.sum(self.loss_fn(self.apply(p, x), y) * w)

      def accumulate(total, batch):
        return jax.tree_util.tree_map(jnp.add, total, jax.grad(summed_loss)(params, *batch)), None

      def grads(p):
        total, _ = jax.lax.scan(accumulate, jax.tree_util.tree_map(jnp.zeros_like, p), (xs, ys, ws))
        return jax.tree_util.tree_map(lambda g: g / size, total)
      return grads

    return jax.lax.switch(phase, [grads_on_prefix(s) for s in sizes], params)


def make(spec, examples, mean_loss, apply, loss_fn):
  if spec.full_batch:
    return FullBatch(spec, examples, mean_loss, apply, loss_fn)
  return PerGroup(spec, examples, mean_loss) if spec.online_groups else Minibatch(spec, examples, mean_loss)
