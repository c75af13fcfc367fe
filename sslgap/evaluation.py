"""What a run records at each evaluation: test and train loss (and accuracy), and weight norms."""

import jax
import jax.numpy as jnp

from sslgap import hparams
from sslgap import models
from sslgap import schedules


def padded_slices(x, y, mask, size):
  """Splits [n, ...] arrays into [ceil(n / size), size, ...] slices, padding with zero weight."""
  n = x.shape[0]
  count = -(-n // size)
  pad = count * size - n
  w = jnp.ones((n,), jnp.float32) if mask is None else mask.astype(jnp.float32)
  split = lambda a: jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape((count, size) + a.shape[1:])
  return split(x), split(y), split(w)


class Evaluator:
  def __init__(self, spec, examples, apply, loss_fn):
    self.spec, self.examples, self.apply, self.loss_fn = spec, examples, apply, loss_fn
    self.probe_size = min(spec.data.eval_train_size, spec.pool_size)

  def measure(self, params, x, y, mask=None):
    """Mean loss (and accuracy: of sign(f), or of the arg-max class) over x, in slices of
    spec.data.eval_batch_size examples."""
    kind = self.spec.task.label_kind
    counts_accuracy = kind in ('sign', 'class')

    def add_slice(totals, batch):
      x, y, w = batch
      f = self.apply(params, x)
      terms = [jnp.sum(w), jnp.sum(self.loss_fn(f, y) * w)]
      if counts_accuracy:
        correct = (y * f > 0) if kind == 'sign' else (jnp.argmax(f, axis=-1) == y)
        terms.append(jnp.sum(correct * w))
      return [t + u for t, u in zip(totals, terms)], None

    batches = padded_slices(x, y, mask, min(self.spec.data.eval_batch_size, x.shape[0]))
    totals, _ = jax.lax.scan(add_slice, [jnp.float32(0)] * (3 if counts_accuracy else 2), batches)
    count = jnp.maximum(totals[0], 1.0)
    out = {'loss': totals[1] / count}
    if counts_accuracy:
      out['acc'] = totals[2] / count
    return out

  def evaluate(self, params, data, hp, state, probe_key, bias):
    """Test metrics, train metrics on (up to spec.data.eval_train_size examples of) the data being
    trained on, with the labels being trained on, and the model's weight norms."""
    spec, examples = self.spec, self.examples
    metrics = {f'test_{k}': v for k, v in self.measure(params, data.test_x, data.test_y).items()}
    size = schedules.phase_sizes(spec, hp)[state.phase]
    if self.probe_size > 0:
      probe = slice(0, self.probe_size)
      labels = examples.labels_at(data.pool_y[probe], data.pool_y_random[probe], hp, state.phase)
      train = self.measure(params, data.pool_x[probe], labels, mask=jnp.arange(self.probe_size) < size)
    if spec.uses_fresh or self.probe_size == 0:
      x, y = examples.fresh(data, hp, probe_key, state.phase, spec.data.eval_train_size, bias)
      online = self.measure(params, x, y)
      train = online if self.probe_size == 0 else jax.tree_util.tree_map(
          lambda a, b: jnp.where(size == hparams.ONLINE, a, b), online, train)
    metrics.update({f'train_{k}': v for k, v in train.items()})
    groups = models.layer_groups(params, spec.group_rules)
    metrics.update({f'norm_{k}': v for k, v in spec.model.norms(params, groups).items()})
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree_util.tree_leaves(params)]))
    return {k: jnp.where(finite, v, jnp.nan) for k, v in metrics.items()}
