"""One training run as a pure function of its traced hyper-parameters.

`make_run(spec)` reads only the run spec (sslgap.spec) and returns `run(hp, data) -> metrics`,
one `lax.scan` over evaluation intervals. `hp` is a pytree of traced scalars (per-group
multipliers as mappings, the data schedule as per-phase vectors; sslgap.hparams), so
`jax.vmap(run, in_axes=(0, None))` trains a whole chunk of a sweep in one kernel, all of it
reading the same data pool. The run is assembled from parts chosen when it is built: a
gradient source (sslgap.sources), a schedule (sslgap.schedules) and an evaluator.
"""

from typing import NamedTuple

import jax
import jax.numpy as jnp
import optax

from sslgap.training import evaluation
from sslgap.training import losses
from sslgap import models
from sslgap.training import optim
from sslgap.models import parameterization
from sslgap.training import schedules
from sslgap.training import sources


class RunInputs(NamedTuple):
  """What one run is given, bound once: its traced hyper-parameters, its data, its keys, and the tree
  of its parameters' layer groups."""

  hp: dict
  data: object  # sslgap.data.Data of the run's data seed
  batch_key: jax.Array
  epoch_key: jax.Array
  layer_groups: dict


class TrainState(NamedTuple):
  """The carry of training: everything a run's next step depends on."""

  params: dict
  opt_state: object
  phase: schedules.PhaseState


class Parts(NamedTuple):
  """A run's parts, bound to its inputs: grads(params, state, step), at(state, params, step), ..."""

  inputs: RunInputs
  examples: sources.Examples
  evaluator: evaluation.Evaluator
  gradients: object  # a sslgap.sources gradient source
  schedule: object  # a sslgap.schedules schedule
  optimizer: object  # an optax GradientTransformation
  probe_key: jax.Array


class Run:
  """The static parts of a run, from its spec; train(hp, data) is the run itself."""

  def __init__(self, spec):
    self.spec = spec
    self.net = spec.model.build()
    self.loss_fn = losses.LOSSES[spec.loss]

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

  def start(self, hp, data):
    """(initial parameters, the run's parts bound to its inputs)."""
    init_key, batch_key, epoch_key, probe_key = jax.random.split(jax.random.key(hp['seed']), 4)
    params, layer_groups = self.init_params(hp, init_key)
    optimizer = self.make_optimizer(hp, params, layer_groups)
    inputs = RunInputs(hp, data, batch_key, epoch_key, layer_groups)
    examples = sources.Examples(self.spec, inputs)
    evaluator = evaluation.Evaluator(self.spec, examples, self.apply, self.loss_fn)
    gradients = sources.make(self.spec, examples, self.mean_loss, self.apply, self.loss_fn)
    schedule = schedules.make(self.spec, examples, evaluator)
    return params, Parts(inputs, examples, evaluator, gradients, schedule, optimizer, probe_key)

  def _interval(self, parts):
    """interval(state, i) -> (state, metrics): training steps i * eval_every ... (i + 1) * eval_every - 1,
    then the evaluation after them; a function of the interval index only, so a run may be cut
    into segments of intervals without changing a bit (tests/test_segments.py)."""
    eval_every, unroll = self.spec.train.eval_every, min(self.spec.train.scan_unroll, self.spec.train.eval_every)

    def train_step(state, step):
      phase = parts.schedule.at(state.phase, state.params, step)
      grads = parts.gradients.grads(state.params, phase, step)
      updates, opt_state = parts.optimizer.update(grads, state.opt_state, state.params)
      return TrainState(optax.apply_updates(state.params, updates), opt_state, phase), None

    def interval(state, i):
      state, _ = jax.lax.scan(train_step, state, i * eval_every + jnp.arange(eval_every), unroll=unroll)
      phase = parts.schedule.after_interval(state.phase, (i + 1) * eval_every)
      return state, parts.evaluator.evaluate(state.params, phase, jax.random.fold_in(parts.probe_key, i + 1))

    return interval

  def begin(self, hp, data):
    """(the state before the first step, the metrics of evaluation 0)."""
    params, parts = self.start(hp, data)
    start = schedules.start()
    first = parts.evaluator.evaluate(params, start, jax.random.fold_in(parts.probe_key, 0))
    return TrainState(params, parts.optimizer.init(params), start), first

  def intervals(self, hp, data, state, first, count):
    """(state, metrics of [count] evaluations) after the `count` intervals from interval `first` (traced)."""
    _, parts = self.start(hp, data)  # the parts only: the initial parameters computed here are unused
    return jax.lax.scan(self._interval(parts), state, first + jnp.arange(count))

  def train(self, hp, data):
    """Returns (final params, metrics dict of [num_evals] arrays)."""
    params, parts = self.start(hp, data)
    start = schedules.start()
    first = parts.evaluator.evaluate(params, start, jax.random.fold_in(parts.probe_key, 0))
    state = TrainState(params, parts.optimizer.init(params), start)
    count = self.spec.train.steps // self.spec.train.eval_every
    state, later = jax.lax.scan(self._interval(parts), state, jnp.arange(count))
    metrics = jax.tree_util.tree_map(lambda a, b: jnp.concatenate([a[None], b]), first, later)
    return state.params, metrics


def make_run(spec):
  """The pure run(hp, data) -> metrics of a run spec."""
  if spec.trains_itself:
    return spec.model.make_run(spec)
  run = Run(spec)
  return lambda hp, data: run.train(hp, data)[1]


def make_segments(spec):
  """(begin(hp, data) -> (state, first metrics), segment(count) -> fn(hp, data, state, first interval) ->
  (state, metrics of count evaluations)) of a run spec, or None for a model that trains itself."""
  if spec.trains_itself:
    return None
  run = Run(spec)
  return run.begin, lambda count: lambda hp, data, state, first: run.intervals(hp, data, state, first, count)
