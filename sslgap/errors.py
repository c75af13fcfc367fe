"""Every error a user can cause, in one leaf module: it imports nothing of sslgap, so the schema,
the plug-ins and the commands all import it at the top.

A command prints a UserError as one line and exits with code 2 (sslgap.command); the notebook API
raises it as it is. A plug-in's own checks raise ConfigError naming the key (`task.k`).
"""


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
