"""Synthetic tasks as pure samplers: the built-ins, and any a user registers (sslgap.tasks.base).

  parity   (n, k)-sparse parity          sim      single-index model He_degree in d dimensions
  modadd   (a + b) mod p as digit tokens  icl      in-context linear regression
"""

from sslgap.tasks.base import TASKS, Task, fields_of, input_dim, register
from sslgap.tasks.icl import InContextRegression
from sslgap.tasks.modadd import ModularAddition
from sslgap.tasks.parity import SparseParity
from sslgap.tasks.sim import SingleIndex, hermite_normalized


def make_task(task_config):
  """The task named by config.task.name, built from its fields (validated in sslgap.config)."""
  cls = TASKS[task_config.name]
  return cls(**{k: task_config[k] for k in fields_of(cls) if k in task_config})

__all__ = ['TASKS', 'Task', 'InContextRegression', 'ModularAddition', 'SingleIndex', 'SparseParity', 'fields_of',
           'hermite_normalized', 'input_dim', 'make_task', 'register']
