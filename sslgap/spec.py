"""The run spec: every static fact of one compiled kernel, derived once from the config.

The sweep engine derives a RunSpec for each static point of a sweep (the config with its
static axes set; its traced axes are still in config.sweep, which sets the pool size and which
data transformations are needed). Everything below the sweep (make_run, the data pools, the
memory estimate) reads only the spec, never the config or the sweep axes again.
"""

import dataclasses

import ml_collections
import numpy as np

from sslgap import backend
from sslgap import hparams
from sslgap import models
from sslgap import tasks

AUTO_MICROBATCH = '1024 examples on a CPU (cache-sized), 65536 on an accelerator'


@dataclasses.dataclass(frozen=True)
class RunSpec:
  task: object  # a sslgap.tasks task
  model: object  # a sslgap.models model plug-in, bound to config.model and the task
  loss: str
  optimizer: str
  eps: float  # AdamW's epsilon
  groups: tuple  # layer group names, in rule order
  group_rules: tuple  # ((layer regex, group), ...)
  hparams: tuple  # the run hp paths the run reads (for checks and conversion)
  # training
  batch_size: int
  steps: int
  eval_every: int
  matmul_precision: str
  # data plan
  full_batch: bool
  sampling: str  # 'with_replacement' or 'without_replacement'
  phase_unit: str  # 'steps' or 'epochs'
  auto_schedule: bool
  auto_check_every: int
  auto_probe_size: int
  debias: str
  online_groups: tuple  # groups that learn from fresh batches while the rest use the subset
  static_phases: tuple  # full-batch GD: ((sizes), (lengths)); else ()
  pool_size: int  # pooled examples per data seed (the largest finite dataset, biased-online samples)
  test_size: int
  eval_train_size: int
  eval_batch_size: int
  full_batch_microbatch: int  # examples per slice of a full-batch gradient
  uses_fresh: bool  # some step draws fresh examples
  uses_random_labels: bool
  uses_online_bias: bool

  @property
  def eval_steps(self):
    return np.arange(0, self.steps + 1, self.eval_every)

  @property
  def metric_names(self):
    if hasattr(self.model, 'metric_names'):
      return self.model.metric_names()
    names = ['test_loss', 'train_loss']
    if self.task.label_kind in ('sign', 'class'):
      names += ['test_acc', 'train_acc']
    return names + [f'norm_{name}' for name in self.model.norm_names()]

  @property
  def trains_itself(self):
    return self.model.make_run is not None


def full_batch_microbatch(config):
  """Examples per slice of a full-batch gradient; 0 in the config picks one for the platform."""
  if config.data.full_batch_microbatch:
    return config.data.full_batch_microbatch
  return 1024 if backend.platform() == 'cpu' else 65536


def pool_size(config):
  """Examples the pool must hold: the largest finite dataset, and the biased-online samples."""
  sizes = [s for s in hparams.all_dataset_sizes(config) if s != hparams.ONLINE]
  if 'online_bias_samples' in hparams.used_hp_keys(config):
    sizes += [int(m) for m in hparams.values_used(config, 'online_bias_samples')]
  return max(sizes, default=0)


def _uses_fresh_samples(config):
  """Some step draws fresh examples: an online phase, or a two-set batch (pool_fraction < 1)."""
  fractions = hparams.values_used(config, 'pool_fraction') if 'pool_fraction' in hparams.used_hp_keys(config) else [1.0]
  return hparams.ONLINE in hparams.all_dataset_sizes(config) or pool_size(config) == 0 or any(f < 1 for f in fractions)


def derive(config):
  """The RunSpec of a static point's config (one that sslgap.config.validate accepts)."""
  task = tasks.make_task(config.task)
  model = models.make(ml_collections.FrozenConfigDict(config.model), task)
  full_batch = config.data.mode == 'full_batch'
  used = hparams.used_hp_keys(config)
  online_bias = (not full_batch and 'online_bias_samples' in used
                 and any(int(m) > 0 for m in hparams.values_used(config, 'online_bias_samples')))
  return RunSpec(
      task=task, model=model, loss=config.loss, optimizer=config.optim.kind, eps=config.optim.eps,
      groups=tuple(hparams.layer_group_names(config)), group_rules=tuple(tuple(r) for r in config.model.layer_groups),
      hparams=tuple(hparams.run_hp_sources(config)),
      batch_size=config.train.batch_size, steps=config.train.steps, eval_every=config.train.eval_every,
      matmul_precision=config.train.matmul_precision,
      full_batch=full_batch, sampling=config.data.sampling, phase_unit=config.data.phase_unit,
      auto_schedule=config.data.schedule == 'auto', auto_check_every=config.data.auto_check_every,
      auto_probe_size=config.data.auto_probe_size, debias=config.data.debias,
      online_groups=() if full_batch else tuple(config.data.online_groups),
      static_phases=hparams.static_phases(config) if full_batch else (),
      pool_size=pool_size(config), test_size=config.task.test_size, eval_train_size=config.data.eval_train_size,
      eval_batch_size=config.data.eval_batch_size, full_batch_microbatch=full_batch_microbatch(config),
      uses_fresh=not full_batch and (_uses_fresh_samples(config) or bool(config.data.online_groups)),
      uses_random_labels=any(int(v) > 0 for v in hparams.values_used(config, 'random_label_phases')),
      uses_online_bias=online_bias,
  )


def data_for(spec, data_seeds):
  """Pools and test sets of the given data seeds, stacked (sslgap.data.build_data)."""
  from sslgap import data
  return data.build_data(spec.task, spec.pool_size, spec.test_size, data_seeds, spec.debias)
