"""Every error a user can cause, and the small field checks that raise them, in one leaf module: it
imports nothing of sslgap, so the schema, the plug-ins and the commands all import it at the top.

A command prints a UserError as one line and exits with code 2 (sslgap.command); the notebook API
raises it as it is. A plug-in's own checks raise ConfigError naming the key (`task.k`), most of
them through check_positive_ints and check_choice below.
"""

import numbers


class UserError(Exception):
  """Something the user can fix, said in one line that names it."""


class ConfigError(UserError, ValueError):
  """A config problem, named by its key, found before anything is compiled."""

  def __init__(self, key, message):
    super().__init__(f'config.{key}: {message}')
    self.key = key


class ConfigFileError(UserError, ValueError):
  """A config file that cannot be read: missing, not Python, fails to import, no get_config."""


class OptionError(UserError, ValueError):
  """A bad way of running a sweep (chunk_size, shard, memory_budget, ...), from the command line or
  from sslgap.run: both say it in the same words."""


class PluginError(UserError, ValueError):
  """A plug-in that is missing, fails to import, or breaks the plug-in protocol."""


class StoreError(UserError, RuntimeError):
  """A sweep folder that cannot be used as asked (another config, a damaged plan, runs missing)."""


class FileError(UserError, OSError):
  """A file or folder that cannot be read or written, named with the reason."""

  def __init__(self, path, reason):
    super().__init__(f'{path}: {reason}')
    self.path = path


class ResultsError(UserError, ValueError):
  """A file that is not an sslgap result grid, named with what is wrong."""


class BackendError(UserError, RuntimeError):
  """JAX cannot start the platform it was asked for (JAX_PLATFORMS=cuda on a machine without a GPU)."""


# --- field checks shared by the schema and the plug-ins ----------------------------------------------

def is_int(value):
  """An integer (numpy's included), not a bool."""
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value):
  """A real number (numpy's included), not a bool."""
  return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check(condition, key, message):
  """ConfigError(key, message) unless condition."""
  if not condition:
    raise ConfigError(key, message)


def check_choice(value, choices, key):
  check(value in choices, key, f'unknown value {value!r}; choose one of {sorted(choices)}')


def check_positive_ints(section, names, where):
  """Each of section[name] is an integer >= 1 (section: a config section such as config.model)."""
  for name in names:
    check(is_int(section[name]) and section[name] >= 1, f'{where}.{name}',
          f'must be an integer >= 1, got {section[name]!r}')


def check_choice_field(section, name, choices, where):
  check_choice(section[name], choices, f'{where}.{name}')
