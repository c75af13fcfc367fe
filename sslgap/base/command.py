"""Small command-line tools (python -m sslgap.merge, .status, .show, ...): one-line errors, exit code 2."""

import argparse
import math
import os
import sys

from sslgap.errors import UserError


def fail(message):
  print(f'error: {message}', file=sys.stderr)
  sys.exit(2)


def run(main):
  """Runs a tool's main and exits with its code: Ctrl-C and a UserError are one line (exit 2), and output piped into
  a reader that stops early (`| head`) ends quietly instead of in a traceback."""
  try:
    code = main()
  except KeyboardInterrupt:
    fail('interrupted; what was already written is kept')
  except UserError as e:  # a mistake of the user's that a tool did not word itself (a broken config file)
    fail(str(e))
  except BrokenPipeError:
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so that exiting does not flush into the pipe
    code = 0
  sys.exit(code)


class Parser(argparse.ArgumentParser):
  """argparse, but a usage error is one line naming the problem, then exit code 2."""

  def error(self, message):
    fail(f'{message} (see {self.prog} --help)')


def rate(value):
  """A rate as a person reads it: whole numbers with thousands separators from 100 up, else 3 digits
  (0.25 runs/s, not 0)."""
  return f'{value:,.0f}' if abs(value) >= 100 else f'{value:.3g}'


def duration(seconds):
  if not math.isfinite(seconds):
    return '?'
  if seconds < 120:
    return f'{seconds:.1f} s'
  if seconds < 7200:
    return f'{seconds / 60:.1f} min'
  if seconds < 3 * 86400:
    return f'{seconds / 3600:.1f} hours'
  return f'{seconds / 86400:.1f} days'
