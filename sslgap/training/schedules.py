"""Where a run is in its data schedule: a fixed one (phase ends from the traced phase lengths, or
static ones for full-batch GD), or the auto-schedule that moves on when train accuracy is high
enough (Fig 19). Chosen when the run is built, bound to the run's hyper-parameters (and, for the
auto-schedule, its examples): a step asks at(state, params, step)."""

from typing import NamedTuple

import jax
import jax.numpy as jnp

from sslgap.training import data as data_lib


class PhaseState(NamedTuple):
  """Where a run is in its data schedule; carried through the scan (the auto-schedule moves it)."""

  phase: jax.Array  # int32
  start: jax.Array  # int32, the phase's first step


def start():
  return PhaseState(jnp.int32(0), jnp.int32(0))


def phase_sizes(spec, hp):
  """The dataset size of each phase (0: online): static for full-batch GD, else traced."""
  if spec.full_batch:
    return jnp.asarray(spec.static_phases[0], jnp.int32)
  return jnp.asarray(hp['phase_sizes'])


class FixedSchedule:
  """Phase i ends at the cumulative sum of the phase lengths (steps, or epochs of its subset)."""

  def __init__(self, spec, hp):
    self.spec, self.hp = spec, hp

  def phase_ends(self):
    """Steps at which each phase of a fixed schedule ends (the last at train.steps)."""
    spec, hp = self.spec, self.hp
    if spec.full_batch:
      lengths = jnp.asarray(spec.static_phases[1], jnp.int32)
    else:
      lengths = hp['phase_lengths']
      if spec.data.phase_unit == 'epochs':
        lengths = lengths * jnp.maximum(hp['phase_sizes'][:-1] // spec.train.batch_size, 1)
    return jnp.concatenate([jnp.cumsum(lengths), jnp.array([spec.train.steps])]).astype(jnp.int32)

  def at(self, state, params, step):
    """The phase at `step`."""
    del state, params
    return PhaseState(*data_lib.phase_at(self.phase_ends(), step))

  def after_interval(self, state, end):
    """The phase the evaluation at step `end` reports."""
    del state
    return PhaseState(*data_lib.phase_at(self.phase_ends(), end))


class AutoSchedule:
  """Every spec.data.auto_check_every steps, move on when the train accuracy on (up to
  spec.data.auto_probe_size examples of) the current subset reaches hp.auto_train_acc, or after
  hp.auto_max_epochs epochs of it; the last phase runs to the end."""

  def __init__(self, spec, examples, evaluator):
    self.spec, self.examples, self.evaluator = spec, examples, evaluator

  def at(self, state, params, step):
    spec, hp, data = self.spec, self.examples.run.hp, self.examples.run.data
    sizes = phase_sizes(spec, hp)
    probe = min(spec.data.auto_probe_size, spec.pool_size)

    def check(state):
      size = sizes[state.phase]
      labels = self.examples.labels_at(data.pool_y[:probe], data.pool_y_random[:probe], state.phase)
      acc = self.evaluator.measure(params, data.pool_x[:probe], labels, mask=jnp.arange(probe) < size)['acc']
      epochs = (step - state.start) * spec.train.batch_size / jnp.maximum(size, 1)
      move = ((acc >= hp['auto_train_acc']) | (epochs >= hp['auto_max_epochs'])) & (state.phase < sizes.shape[0] - 1)
      return PhaseState(jnp.where(move, state.phase + 1, state.phase), jnp.where(move, step, state.start))

    every = spec.data.auto_check_every
    return jax.lax.cond((step > 0) & (step % every == 0), check, lambda s: s, state)

  def after_interval(self, state, end):
    del end
    return state


def make(spec, examples, evaluator):
  return AutoSchedule(spec, examples, evaluator) if spec.auto_schedule else FixedSchedule(spec, examples.run.hp)
