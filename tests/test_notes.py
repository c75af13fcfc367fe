"""A config's notes cite its claims by name; the report fills in the numbers, and no config types one."""

import ml_collections
import pytest

from sslgap import catalog
from sslgap import claims
from sslgap import config as config_lib
from sslgap import notes
from sslgap.errors import ConfigError


def _config(notes_text, *stated):
  c = config_lib.base_config()
  c.claims = tuple(stated)
  c.notes = notes_text
  c.sweep.lr = (0.1, 0.25)
  return c


FAST = dict(kind='faster', name='fast', metric='test_acc', target=0.9, a={'dataset_size': 64},
            b={'dataset_size': 0})
PER_LR = dict(FAST, name='per_lr', per='lr')


@pytest.mark.parametrize('text, stated, message', [
    ('as [[slow]] says', (FAST,), "notes: [[slow]] cites no claim of this config; the claims' names are: fast"),
    ('[[fast]]', (dict(FAST, name='no name'),), "claims[0].name: 'no name' is not a name"),
    ('[[fast]]', (FAST, FAST), "claims[1].name: 'fast' is already the name of claims[0]"),
    ('[[fast@0.1]]', (FAST,), "notes: [[fast@0.1]]: claims[0] ('fast') is not checked per value of an axis"),
    ('[[fast.median]]', (FAST,), 'notes: [[fast.median]] is not a citation'),
    ('[[fast]]', (dict(FAST, name=None),), 'none: give a claim a name= to cite it'),
    ('[[per_lr@0.3]]', (PER_LR,), "notes: [[per_lr@0.3]]: 0.3 is not a value claims[0] ('per_lr') is checked at; "
                                  'cite one of: 0.1, 0.25'),
    ('[[per_lr.a]]', (PER_LR,), "claims[0] ('per_lr') is checked at each value of lr: give the value, [[per_lr@VALUE.a]]"),
    ('[[sizes@256,online]]', (dict(FAST, name='sizes', per='phase_sizes', per_values=[(1024, 'online')]),),
     'cite one of: 1024,online'),
])
def test_a_bad_citation_is_a_config_error_naming_it(text, stated, message):
  with pytest.raises(ConfigError) as e:
    notes.check(_config(text, *stated))
  assert message in str(e.value)


def test_citations_are_checked_when_a_config_is_validated():
  c = _config('[[nothing]]', FAST)
  c.sweep.dataset_size = (64, 'online')
  with pytest.raises(ConfigError, match=r'config.notes: \[\[nothing\]\] cites no claim'):
    config_lib.validate(c)


def _verdict(claim, verdict, estimate, low, high, a=(1, 2, 3), b=(4, 5, 6)):
  return claims.Verdict(claim, verdict, 'log2 of the steps ratio b/a', estimate, low, high,
                        {'a': tuple(map(float, a)), 'b': tuple(map(float, b))}, 'steps')


def test_render_fills_in_each_field_of_each_claim():
  per = [_verdict(dict(PER_LR, checked_at=value), verdict, 0.5, 0.25, 0.75)
         for value, verdict in (('0.1', claims.REPRODUCED), ('0.2', claims.UNDETERMINED))]
  verdicts = [_verdict(FAST, claims.OPPOSITE, -0.5, -0.75, -0.25, a=(300, 375, 450))] + per
  text = ('[[fast]]; [[fast.verdict]]; a [[fast.a]] b [[fast.b]]; [[fast.estimate]] to [[fast.high]]. '
          'At 0.2: [[per_lr@0.2]], [[per_lr@0.2.verdict]]; in all [[per_lr]]; at 0.3: [[per_lr@0.3]].')
  assert notes.render(text, verdicts) == (
      'log2 of the steps ratio b/a -0.5 [-0.75, -0.25]; opposite; a 375 [300, 450] b 5 [4, 6]; -0.5 to -0.25. '
      'At 0.2: log2 of the steps ratio b/a 0.5 [0.25, 0.75], undetermined; in all 1 of 2 values reproduced, 0 '
      'opposite, 1 undetermined; at 0.3: n/a ([[per_lr@0.3]]: not a value it was checked at: 0.1, 0.2).')


def test_a_claim_that_could_not_be_evaluated_says_so():
  failed = claims.Verdict(dict(PER_LR), 'error', 'ValueError: no such axis', float('nan'), float('nan'),
                          float('nan'), {})
  assert notes.render('[[per_lr@0.1]]; [[per_lr]]', [failed]) == ('n/a (the claim could not be evaluated); '
                                                                   'n/a (the claim could not be evaluated)')
  one_failed = [_verdict(dict(PER_LR, checked_at='0.1'), claims.REPRODUCED, 1, 0.5, 1.5),
                claims.Verdict(dict(PER_LR, checked_at='0.25'), 'error', 'x', float('nan'), float('nan'), float('nan'), {})]
  assert notes.render('[[per_lr]]; [[per_lr@0.25]]', one_failed) == (
      '1 of 2 values reproduced, 0 opposite, 1 could not be evaluated; n/a (the claim could not be evaluated)')


def test_the_paper_section_names_a_claim_of_the_config():
  c = _config('', FAST)
  c.paper = dict(headline='fast', quote='q', where='w', departs='d')
  notes.check(c)
  c.paper = dict(headline='slow', quote='q')
  with pytest.raises(ConfigError, match=r"config.paper.headline: 'slow' names no claim of this config"):
    notes.check(c)
  c.paper = dict(headline='fast', quoted='q')
  with pytest.raises(ConfigError, match=r'config.paper.quoted: unknown key'):
    notes.check(c)


def test_every_experiment_names_its_headline_and_quotes_the_paper():
  """Each experiment at each scale tests the paper's own sentence: its config names the claim, quotes the
  sentence with where it stands, and says how its setting departs from the paper's."""
  for experiment in catalog.EXPERIMENTS:
    for scale in catalog.SCALES:
      if not experiment.has(scale):
        continue
      paper = catalog.load_config(experiment, scale).get('paper') or {}
      where = f'{experiment.id} at {scale}'
      assert set(paper) == set(notes.PAPER_KEYS), where
      assert len(paper['quote']) > 40 and paper['where'].startswith(('Section', 'Appendix')), where
      assert paper['departs'], where


def test_a_claim_checked_per_value_is_cited_at_the_value_the_report_prints():
  grid_values = claims.expand(dict(PER_LR, text='t'), _GridWithLr())
  assert [c['checked_at'] for c in grid_values] == ['0.1', '0.25']
  assert all(c['name'] == 'per_lr' for c in grid_values)


class _GridWithLr:
  axis_names = ('lr', 'seed')
  coords = {'lr': [0.1, 0.25], 'seed': [0, 1]}


def test_no_config_types_a_measured_interval_into_its_notes_and_every_citation_resolves():
  checked = 0
  for experiment in catalog.EXPERIMENTS:
    for scale in catalog.SCALES:
      if not experiment.has(scale):
        continue
      config = catalog.load_config(experiment, scale)
      text = config.get('notes', '') or ''
      typed = notes.TYPED_INTERVAL.findall(notes.CITATION.sub('', text))
      assert not typed, f'{experiment.id} ({scale}): notes type intervals {typed}; name the claim and cite it'
      notes.check(config)
      checked += 1
  assert checked > 40


def test_the_typed_interval_pattern_finds_what_a_person_would_type():
  for typed in ('0.18 [-0.42, 0.44]', '0 [-0.49, inf]', '[0.076, 0.163]'):
    assert notes.TYPED_INTERVAL.search(typed), typed
  for prose in ('lr in {0.1, 0.5, 1}', 'steps [a, b]', 'the grid (0.1 to 0.25)'):
    assert not notes.TYPED_INTERVAL.search(prose), prose


def test_a_config_dict_claim_works_as_a_dict():
  notes.check(_config('[[fast]]', ml_collections.ConfigDict(FAST)))
