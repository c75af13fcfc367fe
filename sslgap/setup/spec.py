"""The run spec: every static fact of one compiled kernel, derived once from the config.

The sweep engine derives a RunSpec for each static point of a sweep (the config with its
static axes set; its traced axes are still in config.sweep, which sets the pool size and which
data transformations are needed). Everything below the sweep (make_run, the data pools, the
memory estimate) reads only the spec, never the config or the sweep axes again.
"""

import dataclasses

import ml_collections
import numpy as np

from sslgap.base import backend
from sslgap.training import data
from sslgap.training import evaluation
from sslgap.base import hparams
from sslgap import models
from sslgap.training import optim
from sslgap.setup import options
from sslgap import tasks



@dataclasses.dataclass(frozen=True)
class RunSpec:
  """What compiling and running one kernel reads: the plug-ins bound to their config, the declared
  options (train, data), and the facts derived from them once (hparams.Facts decide hp_sources and
  groups; the spec keeps what the run reads, not the Facts themselves)."""

  task: object  # a sslgap.tasks task
  model: object  # a sslgap.models model plug-in, bound to config.model and the task
  loss: str
  optimizer: str
  eps: float  # AdamW's epsilon
  train: options.Section  # the declared train options (batch_size, steps, eval_every, ...)
  data: options.Section  # the declared data options (sampling, phase_unit, debias, ...)
  hp_sources: dict  # {run hp path: (config hp key or None, converter)} (hparams.run_hp_sources)
  groups: tuple  # layer group names, in rule order
  group_rules: tuple  # ((layer regex, group), ...)
  # derived facts of the data plan
  full_batch: bool
  auto_schedule: bool
  online_groups: tuple  # groups that learn from fresh batches while the rest use the subset (not full batch)
  static_phases: tuple  # full-batch GD: ((sizes), (lengths)); else ()
  pool_size: int  # pooled examples per data seed (the largest finite dataset, biased-online samples)
  test_size: int
  full_batch_microbatch: int  # examples per slice of a full-batch gradient
  uses_fresh: bool  # some step draws fresh examples
  uses_random_labels: bool
  uses_online_bias: bool

  @property
  def eval_steps(self):
    return np.arange(0, self.train.steps + 1, self.train.eval_every)

  def examples_seen(self, eval_steps=None):
    """Examples processed by each eval step (float64 [E]): batch x steps, or for full-batch GD each
    phase's dataset size summed over its steps; the results' compute axis."""
    eval_steps = self.eval_steps if eval_steps is None else np.asarray(eval_steps)
    if not self.full_batch:
      return eval_steps * float(self.train.batch_size)
    sizes, lengths = self.static_phases
    ends = np.cumsum(list(lengths) + [np.inf])
    per_step = np.asarray([sizes[int(np.searchsorted(ends, s, side='right'))] for s in range(int(eval_steps[-1]))],
                          float)
    return np.concatenate([[0.0], np.cumsum(per_step)])[eval_steps]

  @property
  def metric_names(self):
    if hasattr(self.model, 'metric_names'):
      return self.model.metric_names()
    return evaluation.metric_names(self)

  @property
  def trains_itself(self):
    return self.model.make_run is not None


def is_full_batch(config):
  return config.data.mode == 'full_batch'


def facts_of(config):
  """The static facts of a config that decide which traced hyper-parameters it reads (its task and
  model must be registered names: sslgap.config checks them first)."""
  model_cls = models.MODELS.get(config.model.kind)
  task_cls = tasks.TASKS.get(config.task.name)
  optimizer = optim.OPTIMIZERS.get(config.optim.kind)
  return hparams.Facts(optimizer_hparams=optimizer.hparams if optimizer else (),
                       groups=tuple(hparams.layer_group_names(config)), full_batch=is_full_batch(config),
                       multi_phase=hparams.is_multi_phase(config), auto=config.data.schedule == 'auto',
                       biased_sampling=bool(task_cls and hasattr(task_cls, 'sample_biased')),
                       model_hparams=getattr(model_cls, 'hparams', None))


def full_batch_microbatch(config):
  """Examples per slice of a full-batch gradient; 0 in the config picks one for the platform."""
  if config.data.full_batch_microbatch:
    return config.data.full_batch_microbatch
  return 1024 if backend.platform() == 'cpu' else 65536


def pool_size(config, used_keys):
  """Examples the pool must hold: the largest finite dataset, and the biased-online samples."""
  sizes = [s for s in hparams.all_dataset_sizes(config) if s != hparams.ONLINE]
  if 'online_bias_samples' in used_keys:
    sizes += [int(m) for m in hparams.values_used(config, 'online_bias_samples', used_keys)]
  return max(sizes, default=0)


def _uses_fresh_samples(config, used_keys, pool):
  """Some step draws fresh examples: an online phase, or a two-set batch (pool_fraction < 1)."""
  fractions = hparams.values_used(config, 'pool_fraction', used_keys) if 'pool_fraction' in used_keys else [1.0]
  return hparams.ONLINE in hparams.all_dataset_sizes(config) or pool == 0 or any(f < 1 for f in fractions)


def derive(config, facts=None, task=None):
  """The RunSpec of a static point's config (one that sslgap.config.validate accepts); facts and task:
  its facts_of and its task, where the checks derived and built them already."""
  facts = facts or facts_of(config)
  task = task or tasks.make_task(config.task)
  model = models.make(ml_collections.FrozenConfigDict(config.model), task)
  full_batch = facts.full_batch
  used = hparams.used_hp_keys(facts)
  pool = pool_size(config, used)
  online_bias = (not full_batch and 'online_bias_samples' in used
                 and any(int(m) > 0 for m in hparams.values_used(config, 'online_bias_samples', used)))
  return RunSpec(
      task=task, model=model, loss=config.loss, optimizer=config.optim.kind, eps=config.optim.eps,
      train=options.section_of(config, 'train'), data=options.section_of(config, 'data'),
      hp_sources=hparams.run_hp_sources(facts),
      groups=facts.groups, group_rules=tuple(tuple(r) for r in config.model.layer_groups),
      full_batch=full_batch, auto_schedule=facts.auto,
      online_groups=() if full_batch else tuple(config.data.online_groups),
      static_phases=hparams.static_phases(config) if full_batch else (),
      pool_size=pool, test_size=config.task.test_size, full_batch_microbatch=full_batch_microbatch(config),
      uses_fresh=not full_batch and (_uses_fresh_samples(config, used, pool) or bool(config.data.online_groups)),
      uses_random_labels=any(int(v) > 0 for v in hparams.values_used(config, 'random_label_phases', used)),
      uses_online_bias=online_bias,
  )


def run_hp(config, overrides=None):
  """The run's hp pytree of a (static point's) config, with `overrides` ({hp key: value}): for tests
  and notebooks that call a run by hand."""
  facts = facts_of(config)
  return hparams.run_hp(hparams.run_hp_sources(facts), dict(config.hp.items(), **(overrides or {})))


def data_for(spec, data_seeds):
  """Pools and test sets of the given data seeds, stacked (sslgap.data.build_data)."""
  return data.build_data(spec.task, spec.pool_size, spec.test_size, data_seeds, spec.data.debias)
