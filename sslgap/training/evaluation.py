"""What a run records at each evaluation: test and train loss (and accuracy), and weight norms.

Each recorded group of metrics is one Metric declaration in METRICS: the names it records for a
run spec (none: it does not apply) and how it measures them from a run's parameters and state.
`register(Metric(...))` adds one (README, "A metric"); its names reach the grid, the memory
estimate and `sslgap.show` from the declaration alone.
"""

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from sslgap.base import hparams
from sslgap import models
from sslgap.base import registry
from sslgap.training import schedules
from sslgap.errors import PluginError


def padded_slices(x, y, mask, size):
  """Splits [n, ...] arrays into [ceil(n / size), size, ...] slices, padding with zero weight."""
  n = x.shape[0]
  count = -(-n // size)
  pad = count * size - n
  w = jnp.ones((n,), jnp.float32) if mask is None else mask.astype(jnp.float32)
  split = lambda a: jnp.pad(a, [(0, pad)] + [(0, 0)] * (a.ndim - 1)).reshape((count, size) + a.shape[1:])
  return split(x), split(y), split(w)


class Evaluator:
  """The metrics of one run's parameters, bound to its examples (and through them its hp and data)."""

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

  def evaluate(self, params, state, probe_key):
    """{name: scalar} of every declared metric that applies to the spec; NaN once a weight is not finite."""
    metrics = {}
    for metric in METRICS.values():
      if metric.names(self.spec):
        metrics.update(metric.measure(self, params, state, probe_key))
    finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(p)) for p in jax.tree_util.tree_leaves(params)]))
    return {k: jnp.where(finite, v, jnp.nan) for k, v in metrics.items()}


@dataclasses.dataclass(frozen=True)
class Metric:
  """Metrics recorded at each evaluation. names(spec): what it records for a run spec ([]: it does not
  apply); measure(evaluator, params, state, probe_key): {name: scalar} of those names, traced inside
  the run (evaluator.spec, evaluator.examples.run.data and .hp, evaluator.apply, evaluator.measure)."""
  name: str
  names: Callable
  measure: Callable


def _loss_names(spec):
  names = ['test_loss', 'train_loss']
  return names + (['test_acc', 'train_acc'] if spec.task.label_kind in ('sign', 'class') else [])


def _losses(evaluator, params, state, probe_key):
  """Test loss (and accuracy), and train loss on (up to spec.data.eval_train_size examples of) the
  data being trained on, with the labels being trained on."""
  spec, examples = evaluator.spec, evaluator.examples
  data, hp = examples.run.data, examples.run.hp
  metrics = {f'test_{k}': v for k, v in evaluator.measure(params, data.test_x, data.test_y).items()}
  size = schedules.phase_sizes(spec, hp)[state.phase]
  if evaluator.probe_size > 0:
    probe = slice(0, evaluator.probe_size)
    labels = examples.labels_at(data.pool_y[probe], data.pool_y_random[probe], state.phase)
    train = evaluator.measure(params, data.pool_x[probe], labels, mask=jnp.arange(evaluator.probe_size) < size)
  if spec.uses_fresh or evaluator.probe_size == 0:
    x, y = examples.fresh(probe_key, state.phase, spec.data.eval_train_size)
    online = evaluator.measure(params, x, y)
    train = online if evaluator.probe_size == 0 else jax.tree_util.tree_map(
        lambda a, b: jnp.where(size == hparams.ONLINE, a, b), online, train)
  metrics.update({f'train_{k}': v for k, v in train.items()})
  return metrics


def _norms(evaluator, params, state, probe_key):
  del state, probe_key
  groups = models.layer_groups(params, evaluator.spec.group_rules)
  return {f'norm_{k}': v for k, v in evaluator.spec.model.norms(params, groups).items()}


METRICS = {}


def register(metric, override=False):
  """Adds a Metric (a name already taken only with override=True); returns it."""
  if metric.name in METRICS and not registry.same_declaration(METRICS[metric.name], metric, ('names', 'measure')) and not override:
    raise PluginError(f'metric {metric.name!r} is already declared; give yours another name, or register it '
                      'with override=True to replace that one')
  METRICS[metric.name] = metric
  return metric


def metric_names(spec):
  """The names a run of the spec records at each evaluation, in declaration order."""
  return [n for metric in METRICS.values() for n in metric.names(spec)]


register(Metric('losses', _loss_names, _losses))
register(Metric('norms', lambda spec: [f'norm_{n}' for n in spec.model.norm_names()], _norms))
