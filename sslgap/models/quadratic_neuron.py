"""The paper's theory model (Section 4.2, Appendix A) as a vmappable run.

One quadratic neuron f(x) = a (w.x)^2 / 2 on (d, 2)-sparse parity (support {0, 1}), trained
on the correlation loss l = -y f(x) by projected GD: after every step a is clipped to
[-1, 1] and w is put back on the unit sphere. Phase 1 uses the gradient of the first N pool
examples (hp.dataset_size; labels random if hp.random_label_phases > 0) until |a| reaches
hp.a_star; phase 2 uses the exact population gradient, where E[y x x^T] has ones at (0, 1)
and (1, 0). N = 'online' (0) runs phase 2 from the start. Initialisation: w uniform on the
sphere, a ~ U(-1/sqrt(m), 1/sqrt(m)) with m = model.width.

Theorem 1 predicts phase-1 steps T1 <= a* sqrt(N) / eta, so T1 grows like sqrt(N).
Metrics at each evaluation: test_loss (the population loss -a w0 w1), abs_a, alignment
(w0^2 + w1^2, the weight on the support) and phase1_steps (T1 once phase 2 has begun).
config.model.kind = 'quadratic_neuron' runs it through the same sweep engine as any model.
"""

from typing import ClassVar

import jax
import jax.numpy as jnp

from sslgap.errors import ConfigError, check_positive_ints
from sslgap.models import base

METRICS = ('test_loss', 'abs_a', 'alignment', 'phase1_steps')


def population_grads(a, w):
  """Gradients of E[-y a (w.x)^2 / 2] for support {0, 1}: d/da = -w0 w1, d/dw = -a (w1, w0, 0, ...)."""
  swapped = jnp.zeros_like(w).at[0].set(w[1]).at[1].set(w[0])
  return -w[0] * w[1], -a * swapped


def dataset_grads(a, w, x, y, mask, size):
  z = x @ w
  weight = mask * y / size
  return -jnp.sum(weight * z**2) / 2, -a * (weight * z) @ x


def projected_step(a, w, ga, gw, lr):
  """One projected GD step: a clipped to [-1, 1], w back on the unit sphere."""
  w = w - lr * gw
  return jnp.clip(a - lr * ga, -1.0, 1.0), w / jnp.linalg.norm(w)


def make_run(spec):
  steps, eval_every, m, pool_size = spec.train.steps, spec.train.eval_every, spec.model.config.width, spec.pool_size

  def run(hp, data):
    key_w, key_a = jax.random.split(jax.random.key(hp['seed']))
    d = data.pool_x.shape[1]
    w = jax.random.normal(key_w, (d,))
    w = w / jnp.linalg.norm(w)
    a = jax.random.uniform(key_a, (), minval=-m**-0.5, maxval=m**-0.5)
    size = hp['phase_sizes'][0]
    x = data.pool_x.astype(jnp.float32)
    y = jnp.where(hp['random_label_phases'] > 0, data.pool_y_random, data.pool_y)
    mask = (jnp.arange(pool_size) < size).astype(jnp.float32)
    lr, a_star = hp['lr'], hp['a_star']

    def step(carry, _):
      a, w, in_phase2, phase1_steps = carry
      ga_pop, gw_pop = population_grads(a, w)
      if pool_size:
        ga_data, gw_data = dataset_grads(a, w, x, y, mask, jnp.maximum(size, 1))
        ga, gw = jnp.where(in_phase2, ga_pop, ga_data), jnp.where(in_phase2, gw_pop, gw_data)
      else:
        ga, gw = ga_pop, gw_pop
      a, w = projected_step(a, w, ga, gw, lr)
      phase1_steps = phase1_steps + (~in_phase2).astype(jnp.int32)
      return (a, w, in_phase2 | (jnp.abs(a) >= a_star), phase1_steps), None

    def measure(carry):
      a, w, _, phase1_steps = carry
      finite = jnp.isfinite(a) & jnp.all(jnp.isfinite(w))
      values = {'test_loss': -a * w[0] * w[1], 'abs_a': jnp.abs(a), 'alignment': w[0]**2 + w[1]**2,
                'phase1_steps': phase1_steps.astype(jnp.float32)}
      return {k: jnp.where(finite, v, jnp.nan) for k, v in values.items()}

    def interval(carry, _):
      carry, _ = jax.lax.scan(step, carry, None, length=eval_every)
      return carry, measure(carry)

    carry = (a, w, size == 0, jnp.int32(0))
    first = measure(carry)
    _, later = jax.lax.scan(interval, carry, None, length=steps // eval_every)
    return jax.tree_util.tree_map(lambda f, l: jnp.concatenate([f[None], l]), first, later)

  return run


@base.register
class QuadraticNeuron(base.Model):
  """The theory model: config.model.kind = 'quadratic_neuron', on (d, 2)-sparse parity only."""

  kind: ClassVar[str] = 'quadratic_neuron'
  fields: ClassVar[dict] = dict(width=64, hidden_layers=1, activation='relu', init='uniform',
                                parameterization='standard', layer_groups=(('hidden_0', 'first'), ('.*', 'rest')))
  hparams: ClassVar[tuple] = ('seed', 'data_seed', 'lr', 'a_star', 'random_label_phases', 'dataset_size')

  def check(self, config):
    where = 'model'
    if self.task.name != 'parity':
      raise ConfigError(f'{where}.kind', 'the quadratic neuron is defined on parity inputs')
    if config.data.mode != 'minibatch' or len(config.hp.phase_sizes):
      raise ConfigError(f'{where}.kind', 'the quadratic neuron runs its own two phases: use data.mode=minibatch '
                        'and hp.dataset_size')
    check_positive_ints(self.config, ('width',), where)

  def metric_names(self):
    return list(METRICS)

  def param_count(self):
    return self.task.example_shape[0] + 1

  def bytes_per_run(self, spec):
    """The pool is shared; a run holds w, a and a few vectors over the pool (phase 1 reads it all)."""
    return {'state': 2 * 4 * self.param_count(), 'step': 3 * 4 * spec.pool_size, 'evaluation': 0}

  def make_run(self, spec):  # noqa: F811 - the plug-in's own run
    return make_run(spec)
