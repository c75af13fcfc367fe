"""A registry of plug-ins (tasks, models) by config name, checked when a class registers.

A name is registered once: a second class under the same name is refused unless it says
`override=True` (then the replacement is logged), so a plug-in cannot silently stand in for a
built-in. The same class registered again (its file imported once more, say as a config file and
as a plug-in) is no second registration. What every plug-in must define is checked on the spot,
so a missing method is named when its file is imported, not found later in a traceback.
"""

import inspect
import logging
import os
import sys

from sslgap.errors import PluginError

log = logging.getLogger('sslgap')


def origin(cls):
  """(source file, qualified name) of a class, which stays the same when its file is imported again."""
  module = sys.modules.get(cls.__module__)
  path = getattr(module, '__file__', None)
  if path is None:
    codes = [f.__code__ for f in vars(cls).values() if hasattr(f, '__code__')]
    path = codes[0].co_filename if codes else None
  return (os.path.realpath(path) if path else None, cls.__qualname__)


class Registry(dict):
  """{name: class}. `check(cls)` returns a list of what the class lacks (empty if nothing)."""

  def __init__(self, what, key, check, named_by=None):
    super().__init__()
    self.what, self.key, self._check = what, key, check
    self.named_by = named_by or f'its config.{what}.{key}'

  def register(self, cls=None, *, override=False, prepare=None):
    """Class decorator (`@register` or `@register(override=True)`)."""

    def add(cls):
      cls = prepare(cls) if prepare else cls
      name = getattr(cls, self.key, None)
      if not isinstance(name, str) or not name:
        raise PluginError(f'{self.what} class {cls.__qualname__} needs a class attribute {self.key!r} (a string: '
                          f'{self.named_by})')
      problems = self._check(cls)
      if problems:
        raise PluginError(f'{self.what} {name!r} ({cls.__qualname__}) {"; ".join(problems)}')
      existing = self.get(name)
      if existing is not None and origin(existing) != origin(cls):
        where = origin(existing)[0] or existing.__module__
        if not override:
          raise PluginError(f'{self.what} {name!r} is already registered (by {where}); give yours another '
                            f'{self.key}, or register it with override=True to replace that one')
        log.warning('%s %r of %s replaces the one of %s (override=True)', self.what, name,
                    origin(cls)[0] or cls.__module__, where)
      self[name] = cls
      return cls

    return add(cls) if cls is not None else add


def same_declaration(a, b, functions, fields=()):
  """Whether two declarations (dataclasses of functions) are one: equal, or the same fields and functions
  defined at the same lines of the same file (its file imported again makes new function objects)."""
  def where(d):
    code = lambda f: (f.__code__.co_filename, f.__code__.co_firstlineno) if hasattr(f, '__code__') else f
    return tuple(getattr(d, k) for k in fields) + tuple(code(getattr(d, k)) for k in functions)
  return a is b or a == b or where(a) == where(b)


def defines(cls, name, base):
  """Whether cls (or a class between it and base) defines `name` itself, not only base's default."""
  return any(name in vars(c) for c in inspect.getmro(cls) if c is not base and issubclass(c, base))
