"""A config's notes cite its claims, and the report fills in the numbers from the grid.

A person writes what was tried and what it means; a number measured on a grid is never typed into a
note (it would go stale when the grid is rerun). A claim gets a `name`, and the note cites it:

  [[name]]            the claim's statistic and 95% interval: "log2 of the steps ratio b/a 0.18 [-0.42, 0.44]"
  [[name.verdict]]    its outcome: reproduced / smaller than the paper's / opposite / undetermined (why)
  [[name.a]]          series a's own number and interval ("375 [300, 450]"); [[name.b]] likewise
  [[name.estimate]]   the statistic alone (also .low and .high: the interval's ends)
  [[name@0.36]]       of a claim checked per value of an axis (`per`), the one at that value (a number
                      as the report prints it, a tuple as its entries: [[name@256,online]],
                      sslgap.claims.cited_value); any field may follow: [[name@0.36.a]]. Without @value such a
                      claim gives its count: "1 of 17 values reproduced, 0 opposite".

sslgap.config checks the citations when a config loads (a name that no claim has is a ConfigError);
the report renders them (sslgap.report).
"""

import re

from sslgap.science import claims as claims_lib
from sslgap.science import results as results_lib
from sslgap.errors import ConfigError

CITATION = re.compile(r'\[\[([^\[\]]*)\]\]')
_PARTS = re.compile(r'^(?P<name>[A-Za-z_]\w*)(?:@(?P<value>.+?))?(?:\.(?P<field>verdict|a|b|estimate|low|high))?$')
FIELDS = ('verdict', 'a', 'b', 'estimate', 'low', 'high')
# What a typed interval looks like ("0.18 [-0.42, 0.44]"): the test of every config refuses it in notes.
TYPED_INTERVAL = re.compile(r'\[\s*-?(?:\d|inf)[^\]\[]*,\s*-?(?:\d|inf)[^\]\[]*\]')


def citations(text):
  """[(citation as written, name, value or None, field or None)] of a note, in order."""
  out = []
  for match in CITATION.finditer(text or ''):
    parts = _PARTS.match(match.group(1).strip())
    if parts is None:
      raise ConfigError('notes', f'{match.group(0)} is not a citation: write [[name]], [[name.FIELD]] (FIELD one of '
                        f'{", ".join(FIELDS)}) or [[name@VALUE]] for a claim checked per value')
    out.append((match.group(0), parts['name'], parts['value'], parts['field']))
  return out


def check(config):
  """ConfigError unless every claim name is a unique identifier and every citation in notes names a
  claim (with @value only for a claim checked `per` value of an axis)."""
  stated = list(config.get('claims') or ())
  named = {}
  for i, claim in enumerate(stated):
    name = claim.get('name') if hasattr(claim, 'get') else None
    if name is None:
      continue
    if not isinstance(name, str) or not re.fullmatch(r'[A-Za-z_]\w*', name):
      raise ConfigError(f'claims[{i}].name', f'{name!r} is not a name (letters, digits and _, not starting with a digit)')
    if name in named:
      raise ConfigError(f'claims[{i}].name', f'{name!r} is already the name of claims[{named[name]}]')
    named[name] = i
  _check_paper(config.get('paper'), named)
  for written, name, value, field in citations(config.get('notes', '')):
    if name not in named:
      known = ', '.join(sorted(named)) or 'none: give a claim a name= to cite it'
      raise ConfigError('notes', f'{written} cites no claim of this config; the claims\' names are: {known}')
    claim = stated[named[name]]
    per = claim.get('per')
    if value is not None and per is None:
      raise ConfigError('notes', f'{written}: claims[{named[name]}] ({name!r}) is not checked per value of an axis '
                        '(it has no per=), so it has no @value')
    if per is None:
      continue
    if value is None and field not in (None, 'verdict'):
      raise ConfigError('notes', f'{written}: claims[{named[name]}] ({name!r}) is checked at each value of {per}: '
                        f'give the value, [[{name}@VALUE.{field}]]')
    values = _checked_values(config, claim)
    if value is not None and values is not None and value.replace(' ', '') not in values:
      raise ConfigError('notes', f'{written}: {value} is not a value claims[{named[name]}] ({name!r}) is checked at; '
                        f'cite one of: {", ".join(values)}')


PAPER_KEYS = ('headline', 'quote', 'where', 'departs')


def _check_paper(paper, named):
  """ConfigError unless the paper section names one of the claims as its headline and says nothing else
  than PAPER_KEYS, each a string."""
  if paper is None:
    return
  if not hasattr(paper, 'items'):
    raise ConfigError('paper', f'must be a dict of {", ".join(PAPER_KEYS)}, got {type(paper).__name__}')
  for key, value in paper.items():
    if key not in PAPER_KEYS:
      raise ConfigError(f'paper.{key}', f'unknown key; the paper section has {", ".join(PAPER_KEYS)}')
    if not isinstance(value, str):
      raise ConfigError(f'paper.{key}', f'must be a string, got {value!r}')
  if paper.get('headline') is not None and paper['headline'] not in named:
    known = ', '.join(sorted(named)) or 'none: give a claim a name= to make it the headline'
    raise ConfigError('paper.headline', f'{paper["headline"]!r} names no claim of this config; the claims\' names are: '
                      f'{known}')


def _checked_values(config, claim):
  """The values a `per` claim is checked at, as cited (the grid's axis, as sslgap.claims.expand reads
  it), or None when the sweep does not say (the report then names a missing one)."""
  axis = (config.get('sweep') or {}).get(claim['per'])
  if claim.get('per_values') is None and axis is None:
    return None
  stored = results_lib.coord_array(list(axis)) if axis is not None else ()
  return [claims_lib.cited_value(v) for v in claims_lib.checked_values(claim.get('per_values'), stored)]


def _by_value(verdicts, value):
  for v in verdicts:
    if v.claim.get('checked_at') == value:
      return v
  return None


def _field(v, field):
  if v.verdict == 'error':
    return 'n/a (the claim could not be evaluated)'
  if field is None:
    return f'{v.statistic} {claims_lib.fmt_interval(v.low, v.estimate, v.high)}'
  if field == 'verdict':
    return v.verdict + (f' ({v.reason})' if v.reason else '')
  if field in ('estimate', 'low', 'high'):
    return claims_lib.fmt(getattr(v, field))
  numbers = list(v.series.values())
  index = 'ab'.index(field)
  return claims_lib.fmt_interval(*numbers[index], v.unit) if index < len(numbers) else 'n/a'


def _count(verdicts):
  return count_outcomes(verdicts)


def count_outcomes(verdicts):
  """'k of n values reproduced, m opposite' (and the others that occur) of a claim checked per value."""
  names = [v.verdict for v in verdicts]
  text = (f'{names.count(claims_lib.REPRODUCED)} of {len(names)} values reproduced, '
          f'{names.count(claims_lib.OPPOSITE)} opposite')
  for outcome in (claims_lib.SMALLER, claims_lib.UNDETERMINED, claims_lib.ERROR):
    if names.count(outcome):
      text += f', {names.count(outcome)} ' + ('could not be evaluated' if outcome == claims_lib.ERROR else outcome)
  return text


def render(text, verdicts):
  """The note with every citation replaced by what the verdicts (of this grid) say."""
  by_name = {}
  for v in verdicts:
    if v.claim.get('name') is not None:
      by_name.setdefault(v.claim['name'], []).append(v)

  def one(match):
    written, name, value, field = citations(match.group(0))[0]
    found = by_name.get(name)
    if not found:
      return f'n/a ({written}: no verdict of that name)'
    if all(v.verdict == 'error' for v in found) and all(v.claim.get('checked_at') is None for v in found):
      return 'n/a (the claim could not be evaluated)'  # it could not even be checked per value
    if value is not None:
      v = _by_value(found, value.replace(' ', ''))
      if v is None:
        values = ', '.join(str(x.claim.get('checked_at')) for x in found)
        return f'n/a ({written}: not a value it was checked at: {values})'
      return _field(v, field)
    if len(found) > 1 or found[0].claim.get('checked_at') is not None:
      return _count(found) if field in (None, 'verdict') else f'n/a ({written}: give @value)'
    return _field(found[0], field)

  return CITATION.sub(one, text or '')

