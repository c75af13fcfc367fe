"""What a task is to the engine, and the registry that finds one by its config name.

A task is a frozen dataclass whose fields are its `config.task` sizes (besides `name` and
`test_size`). It draws a hidden target from a key (`init_target`), samples `(x, y)` given that
target (`sample`), and says what its labels are (`label_kind`: 'sign' for +-1, 'real', or
'class' for integers below `num_classes`). Everything is traceable, so batches are drawn inside
a compiled step. Optional abilities are methods a task may define:

  population(target, key)          every example once, in a random order (finite populations)
  sample_biased(target, key, n, p) inputs from a coordinate-biased distribution (Fig 3b)
  debias(target, kind, x)          a transformation of a pool that removes its sampling biases
  test_set(target, key, n)         the test examples, when they must not be fresh samples (a
                                   held-out split); by default n fresh samples
  check(task_config)               the task's own rules (k <= n), raising ConfigError

Register one with @register; a task of your own lives in any file named in `config.plugins`.
"""

import dataclasses
import math
from typing import ClassVar

import jax.numpy as jnp

TASKS = {}


def register(cls):
  """Class decorator: makes a task available as config.task.name = cls.name."""
  if not dataclasses.is_dataclass(cls):
    cls = dataclasses.dataclass(frozen=True)(cls)
  TASKS[cls.name] = cls
  return cls


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
  def supports_biased_sampling(self):
    return hasattr(self, 'sample_biased')

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
