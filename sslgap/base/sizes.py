"""Sizes in bytes, read from a config or a flag ('80GB', '512MiB') and said in words."""

import math

UNITS = {'kib': 2**10, 'mib': 2**20, 'gib': 2**30, 'tib': 2**40, 'kb': 1e3, 'mb': 1e6, 'gb': 1e9, 'tb': 1e12,
         'b': 1}


def parse_bytes(text):
  """'80GB', '141e9', '512MiB' -> bytes (a positive int); ValueError says what is wrong."""
  text = str(text).strip()
  unit = next((u for u in UNITS if text.lower().endswith(u)), '')
  try:
    value = float(text[:len(text) - len(unit)]) * UNITS.get(unit, 1)
  except ValueError:
    raise ValueError(f"must be a size like '60GB' or '512MiB', got {text!r}") from None
  if not math.isfinite(value):
    raise ValueError(f'must be a finite size, got {text!r}')
  if value < 1:
    raise ValueError(f'must be a positive size, got {text!r}')
  return int(value)


def describe_bytes(count):
  """Bytes in words: '512 kB', '1.2 GB'."""
  for unit, size in (('TB', 1e12), ('GB', 1e9), ('MB', 1e6), ('kB', 1e3)):
    if count >= size:
      return f'{count / size:.3g} {unit}'
  return f'{int(count)} B'
