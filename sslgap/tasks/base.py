"""What a task is to the engine, and the registry that finds one by its config name.

A task is a frozen dataclass whose fields are its `config.task` sizes (besides `name` and
`test_size`). It draws a hidden target from a key (`init_target`), samples `(x, y)` given that
target (`sample`), and says what its labels are (`label_kind`: 'sign' for +-1, 'real', or
'class' for integers below `num_classes`). Everything is traceable, so batches are drawn inside
a compiled step. Optional abilities are methods a task may define:

  population(target, key)          every example once, in a random order (finite populations; then
                                   population_size too)
  sample_biased(target, key, n, p) inputs from a coordinate-biased distribution (Fig 3b)
  debias(target, kind, x)          a transformation of a pool that removes its sampling biases (with
                                   debias_kinds, and label(target, x) to label the new inputs)
  test_set(target, key, n)         the test examples, when they must not be fresh samples (a
                                   held-out split); by default n fresh samples
  check(task_config)               the task's own rules (k <= n), raising ConfigError

Register one with @register; a task of your own lives in any file named in `config.plugins`.
Registering checks the protocol (a missing method is named then) and refuses a name already
taken, a built-in's included, unless @register(override=True).
"""

import dataclasses
import math
from typing import ClassVar

import jax.numpy as jnp

from sslgap.base import registry

LABEL_KINDS = ('sign', 'real', 'class')


def _frozen_dataclass(cls):
  return cls if dataclasses.is_dataclass(cls) else dataclasses.dataclass(frozen=True)(cls)


def protocol_gaps(cls):
  """What a task class lacks of the protocol (empty if nothing): checked when it registers."""
  gaps = []
  if getattr(cls, 'label_kind', None) not in LABEL_KINDS:
    gaps.append(f'needs label_kind, one of {LABEL_KINDS}, got {getattr(cls, "label_kind", None)!r}')
  for method in ('example_shape', 'sample', 'random_labels'):
    if not registry.defines(cls, method, Task):
      gaps.append(f'must define {method}')
  if hasattr(cls, 'population') and not registry.defines(cls, 'population_size', Task):
    gaps.append('defines population, so it must define population_size (else subsets would be sampled with repeats)')
  if len(getattr(cls, 'debias_kinds', ('none',))) > 1:
    gaps += [f'has debias_kinds, so it must define {m}' for m in ('debias', 'label') if not hasattr(cls, m)]
  if getattr(cls, 'label_kind', None) == 'class' and not registry.defines(cls, 'num_classes', Task):
    gaps.append("has label_kind 'class', so it must define num_classes")
  return gaps


TASKS = registry.Registry('task', 'name', protocol_gaps)


def register(cls=None, *, override=False):
  """Class decorator: makes a task available as config.task.name = cls.name (a frozen dataclass of its
  sizes). A name already taken is refused unless override=True."""
  return TASKS.register(cls, override=override, prepare=_frozen_dataclass)


class Task:
  """Defaults of the task protocol; subclasses are frozen dataclasses of their sizes."""

  name: ClassVar[str]
  label_kind: ClassVar[str]  # 'sign', 'real' or 'class'
  x_dtype: ClassVar = jnp.float32
  y_dtype: ClassVar = jnp.float32
  sequence: ClassVar[bool] = False  # examples are token sequences: only sequence models take them
  debias_kinds: ClassVar[tuple] = ('none',)
  population_size: ClassVar[float] = math.inf

  @property
  def example_shape(self):
    raise NotImplementedError

  def init_target(self, key):
    del key
    return {}

  def sample(self, target, key, num):
    raise NotImplementedError

  def random_labels(self, target, key, x):
    """Labels with the statistics of real ones and nothing to learn (random-label phases)."""
    raise NotImplementedError

  @property
  def num_classes(self):
    return 1

  @property
  def output_dim(self):
    return self.num_classes if self.label_kind == 'class' else 1

  def token_encoding(self):
    """How a sequence model embeds an example: ('ids', vocabulary) or ('features', per token)."""
    return 'features', self.example_shape[-1]

  def debias_group_size(self, kind):
    """Prefixes of a debiased pool are exactly debiased when their size is a multiple of this."""
    del kind
    return 1

  def check(self, task_config):
    """Raises ConfigError (naming the key, e.g. 'task.k') if config.task makes no sense."""
    del task_config


def input_dim(task):
  """Features of one example when it is flattened (an MLP's input width)."""
  return math.prod(task.example_shape)


def fields_of(cls):
  """{field name: default or dataclasses.MISSING} of a task class (its config.task keys)."""
  return {f.name: f.default for f in dataclasses.fields(cls)}
