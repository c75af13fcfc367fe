"""The results layer as users meet it: the generated report, show, xarray and pandas, the notebook
API, --help, and figures that leave the session's matplotlib alone."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import sslgap
from sslgap import catalog
from sslgap import findings
from sslgap import claims
from sslgap import report
from sslgap.paper import report_sections
from sslgap import results
from sweep_cli import ROOT, env, module
from sweep_cli import module_in_process

TINY_CONFIG = '''
from sslgap import config as config_lib

def get_config(arg=None):
  c = config_lib.base_config()
  c.name = {name!r}
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.data.eval_train_size = 64
  c.model.width = 16
  c.train.batch_size, c.train.steps, c.train.eval_every = 16, 300, 50
  c.hp.lr = 0.2
  c.sweep.dataset_size = (32, 'online')
  c.sweep.seed = (0, 1, 2, 3)
  c.plot = dict(metrics=('test_acc',), lines='dataset_size')
  c.claims = ({claim},)
  c.notes = 'A note only a person can write: [[first]] ([[first.verdict]]; a took [[first.a]]).'
  return c
'''


@pytest.fixture(scope='module')
def generated(tmp_path_factory):
  """Two tiny experiments, run and reported; then reported again from the same grids."""
  root = tmp_path_factory.mktemp('reproduce')
  experiments = []
  for name, claim in (('tiny_faster', "dict(kind='faster', name='first', text='Subset first.', metric='test_acc', target=0.7, "
                                      "a={'dataset_size': 32}, b={'dataset_size': 'online'})"),
                      ('tiny_better', "dict(kind='better', name='first', text='Online fits the test set.', metric='test_acc', "
                                      "a={'dataset_size': 'online'}, b={'dataset_size': 32})")):
    path = root / f'{name}.py'
    path.write_text(textwrap.dedent(TINY_CONFIG.format(name=name, claim=claim)))
    experiments.append(catalog.Experiment(name, 'T', 'learning_curves', str(path), (('small', ''),)))
  doc = root / 'docs' / 'REPORT.md'
  first = report.generate(experiments, 'small', str(root / 'results'), str(doc), log=lambda _: None)
  text = doc.read_text()
  second = report.generate(experiments, 'small', str(root / 'results'), str(doc), log=lambda _: None)
  return first, second, text, doc


def test_the_report_holds_the_numbers_of_the_grids(generated):
  entries, _, text, doc = generated
  for entry in entries:
    assert entry.error is None and entry.grid and entry.wall_seconds > 0
    grid = results.load(entry.grid)
    for claim, verdict in zip(grid.config['claims'], entry.verdicts):
      again = claims.evaluate(claim, grid)  # computed from the .npz alone
      assert again.verdict == verdict.verdict and again.describe() in text
      assert f'**{verdict.verdict}' in text and f': {claim["text"]}' in text
    assert f'](figures/small/{entry.experiment.id}.png)' in text
    assert (doc.parent / 'figures' / 'small' / f'{entry.experiment.id}.png').exists()
    v = entry.verdicts[0]  # the note cites it, and the report fills in its numbers from the grid
    assert (f'A note only a person can write: {v.statistic} {claims.fmt_interval(v.low, v.estimate, v.high)} '
            f'({v.verdict}{f" ({v.reason})" if v.reason else ""}; a took '
            f'{claims.fmt_interval(*list(v.series.values())[0], v.unit)}).') in text
  assert '[[first' not in text
  assert '2 claims:' in text and 'learning_curves.py --config=' in text
  assert "## Method" in text and 'cross-fitting' in text and 'tests/test_calibration.py' in text


def test_finished_grids_are_not_run_again(generated):
  first, second, _, _ = generated
  for a, b in zip(first, second):
    assert a.grid == b.grid and a.wall_seconds == b.wall_seconds  # no new invocation was timed
    runs = json.load(open(os.path.join(a.folder, report.WALL_FILE)))['runs']
    assert len(runs) == 1


def test_an_update_regenerates_some_experiments_and_keeps_the_others_as_written(generated, tmp_path):
  """--update: the experiments named are computed again from their grids; every other row, section and line
  of the claims table is the earlier report's, byte for byte, marked once with the day it was written,
  even when its grids are gone; updating again changes nothing."""
  entries, _, text, doc = generated
  faster, better = (e.experiment for e in entries)
  path = tmp_path / 'docs' / 'REPORT.md'
  path.parent.mkdir()
  rows = findings.read(findings.json_path(str(doc)))
  rows[1]['sentence'] = 'as written then'  # what the earlier report said of tiny_better, whose grids are gone
  earlier = text.replace(f'`{better.id}`\n', f'`{better.id}`\n\nA line only the earlier report has.\n', 1)
  earlier = earlier.replace('A note only a person can write', 'STALE', 1)  # tiny_faster's section, regenerated
  path.write_text(earlier)
  open(findings.json_path(str(path)), 'w').write(json.dumps(rows))
  report.generate([faster], 'small', str(doc.parent.parent / 'results'), str(path), log=lambda _: None, update=True)
  updated = path.read_text()
  kept = report_sections.sections(updated)[better.id]
  assert 'A line only the earlier report has.' in kept and kept.count('*Kept from the report of') == 1
  assert kept.replace(kept.splitlines()[2] + '\n\n', '', 1) == report_sections.sections(earlier)[better.id]
  assert report_sections.sections(updated)[faster.id] == report_sections.sections(text)[faster.id]  # STALE gone
  assert report_sections.claim_lines(updated) == report_sections.claim_lines(text)
  assert '`tiny_better`) are kept from the report(s) of' in updated
  new_rows = findings.read(findings.json_path(str(path)))
  assert [r['id'] for r in new_rows] == [faster.id, better.id]
  assert new_rows[1]['sentence'] == 'as written then' and new_rows[1]['kept_from'] == report_sections.written_on(text)
  assert 'as written then' in updated.split('## Method')[0]  # the findings table reads the kept row
  report.generate([faster], 'small', str(doc.parent.parent / 'results'), str(path), log=lambda _: None, update=True)
  assert path.read_text() == updated
  broken = catalog.Experiment(faster.id, 'T', 'no_such_script', faster.config, (('small', ''),))  # its run fails
  report.generate([broken], 'small', str(tmp_path / 'elsewhere'), str(path), log=lambda _: None, update=True)
  assert path.read_text().count('*Kept from the report of') == 2  # the failed run kept tiny_faster's earlier row
  assert 'run failed' not in path.read_text()
  path.write_text(updated)
  rows.append(dict(rows[0], id='tiny_gone'))  # a row the markdown has no section of: said, nothing written
  open(findings.json_path(str(path)), 'w').write(json.dumps(rows))
  with pytest.raises(ValueError, match="REPORT.md: its JSON has 'tiny_gone', its markdown has no section of it"):
    report.generate([faster], 'small', str(doc.parent.parent / 'results'), str(path), log=lambda _: None, update=True)
  assert path.read_text() == updated


def test_reproduce_update_names_what_it_lacks_before_anything_runs(tmp_path):
  _, stderr = module_in_process('sslgap.reproduce', '--update', expect=2)
  assert stderr.strip() == 'error: --update: give the experiments to regenerate with --only (the others are kept as written)'
  missing = tmp_path / 'R.md'
  _, stderr = module_in_process('sslgap.reproduce', '--only', 'fig1_parity', '--update', '--report', missing,
                                '--out', tmp_path, expect=2)
  assert stderr.strip() == f'error: --update: {missing}: no report (and R.json beside it) to update'
  assert not (tmp_path / 'small').exists()


def test_reproduce_names_bad_input():
  _, stderr = module_in_process('sslgap.reproduce', '--only', 'fig99', expect=2)
  assert "--only: unknown experiment(s) ['fig99']" in stderr and len(stderr.strip().splitlines()) == 1
  for flag in ('--scale', '--preset'):  # --preset: the older name
    _, stderr = module_in_process('sslgap.reproduce', flag, 'huge', expect=2)
    assert 'invalid choice' in stderr and len(stderr.strip().splitlines()) == 1


def _saved_grid(tmp_path):
  axes = [('lr', [0.1, 0.2]), ('dataset_size', [64, 'online']), ('seed', [0, 1, 2])]
  rng = np.random.default_rng(0)
  acc = rng.uniform(0.5, 1.0, size=(2, 2, 3, 4)).astype(np.float32)
  acc[1, 1, 2, -1] = np.nan  # a diverged run
  config = {'name': 'g', 'train': {'batch_size': 16}, 'data': {'mode': 'minibatch'}, 'hp': {},
            'plot': {'metrics': ['test_acc'], 'lines': 'dataset_size'}}
  path = tmp_path / 'g.npz'
  results.save(str(path), axes, [0, 10, 20, 30], {'test_acc': acc, 'test_loss': 1 - acc}, json.dumps(config),
               sslgap_version='x')
  return path


def test_to_xarray_and_to_dataframe_round_trip(tmp_path):
  r = results.load(_saved_grid(tmp_path))
  ds = r.to_xarray()
  assert list(ds['test_acc'].dims) == ['lr', 'dataset_size', 'seed', 'step']
  np.testing.assert_array_equal(ds['test_acc'].values, r['test_acc'])
  assert ds['test_acc'].sel(lr=0.2, dataset_size=0, seed=1, step=30).item() == r['test_acc'][1, 1, 1, 3]
  assert json.loads(ds.attrs['config_json'])['name'] == 'g' and ds.attrs['sslgap_version'] == 'x'
  df = r.to_dataframe()
  assert len(df) == 2 * 2 * 3 * 4 and {'lr', 'dataset_size', 'seed', 'step', 'test_acc', 'finished'} <= set(df.columns)
  back = df.set_index(['lr', 'dataset_size', 'seed', 'step'])['test_acc'].to_numpy().reshape(r['test_acc'].shape)
  np.testing.assert_array_equal(back, r['test_acc'])


def test_show_prints_the_summary_and_redraws_the_figure(tmp_path):
  path = _saved_grid(tmp_path)
  stdout, _ = module('sslgap.show', path, '--format', 'svg')
  assert 'axes:' in stdout and 'lr [2]: 0.1, 0.2' in stdout and 'eval steps [4]: 0, 10, 20, 30' in stdout
  assert 'best lr per cell' in stdout and 'dataset_size=64: lr=' in stdout
  assert 'diverged runs: 1' in stdout
  assert (tmp_path / 'g.svg').read_text().startswith('<?xml')
  stdout, _ = module('sslgap.show', path, '--metric', 'test_loss', '--out', tmp_path / 'loss.pdf')
  assert (tmp_path / 'loss.pdf').read_bytes().startswith(b'%PDF')
  _, stderr = module_in_process('sslgap.show', path, '--metric', 'nope', expect=2)
  assert "has no metric 'nope'" in stderr
  (tmp_path / 'x.npz').write_text('not a grid')
  _, stderr = module_in_process('sslgap.show', tmp_path / 'x.npz', expect=2)
  assert 'x.npz is text, not an sslgap result grid' in stderr and len(stderr.strip().splitlines()) == 1


def test_show_never_replaces_the_experiments_figure(tmp_path):
  path = _saved_grid(tmp_path)
  figure = tmp_path / 'g.png'
  figure.write_bytes(b'the experiment drew this')
  stdout, _ = module('sslgap.show', path, '--metric', 'test_loss', '--best', '')
  assert figure.read_bytes() == b'the experiment drew this' and (tmp_path / 'g.test_loss.png').exists()
  assert 'final test_loss per cell (seed mean):' in stdout and 'lr=0.1, dataset_size=64: 0.' in stdout
  stdout, _ = module('sslgap.show', path, process=True)  # show's one end-to-end process
  assert figure.read_bytes() == b'the experiment drew this' and 'kept' in stdout
  module('sslgap.show', path, '--out', figure)  # named: drawn anew
  assert figure.read_bytes().startswith(b'\x89PNG')


def test_bootstrap_of_a_results_grid(tmp_path):
  r = results.load(_saved_grid(tmp_path))
  interval = r.bootstrap(n=500)
  assert interval.mid.axis_names == ['lr', 'dataset_size']
  np.testing.assert_allclose(interval.mid['test_acc'], r.mean('seed')['test_acc'], rtol=1e-6)
  assert np.all(interval.low['test_acc'][:, 0] <= interval.high['test_acc'][:, 0])
  assert r.sem().axis_names == ['lr', 'dataset_size'] and r.std()['test_acc'].shape == (2, 2, 4)


def test_importing_plotting_keeps_the_sessions_backend():
  code = ('import matplotlib; matplotlib.use("svg"); import sslgap.plotting, sslgap.show; '
          'assert matplotlib.get_backend() == "svg", matplotlib.get_backend(); print("kept")')
  done = subprocess.run([sys.executable, '-c', code], cwd=ROOT, env=env(), capture_output=True, text=True)
  assert done.stdout.strip() == 'kept', done.stderr


@pytest.mark.parametrize('script', ['init_scale_heatmap', 'learning_curves', 'theory'])
def test_help_lists_the_engine_flags(script):
  done = subprocess.run([sys.executable, f'experiments/{script}.py', '--help'], cwd=ROOT, env=env(),
                        capture_output=True, text=True)
  assert done.returncode == 0
  for flag in ('--config', '--out', '--dry_run', '--shard', '--launcher', '--max_chunks', '--format'):
    assert flag in done.stdout, flag


def test_the_notebook_api_runs_a_config_and_returns_its_grid(tiny_config, tmp_path):
  tiny_config.sweep.seed = (0, 1)
  r = sslgap.run(tiny_config, out=str(tmp_path), progress=False)
  assert r.axis_names == ['seed'] and np.all(np.isfinite(r['test_loss']))
  again = sslgap.run(tiny_config, out=str(tmp_path), progress=False)  # complete: read, not rerun
  np.testing.assert_array_equal(again['test_loss'], r['test_loss'])


def test_figures_of_tuple_axes_and_single_runs_draw(tmp_path):
  axes = [('phase_sizes', [(16, 'online'), ('online', 'online')]), ('lr', [0.1, 0.2])]
  config = {'name': 'p', 'train': {'batch_size': 8}, 'data': {'mode': 'minibatch'}, 'hp': {}, 'plot': {}}
  acc = np.random.default_rng(0).uniform(0.5, 1, size=(2, 2, 3))
  path = tmp_path / 'p.npz'
  results.save(str(path), axes, [0, 10, 20], {'test_acc': acc, 'train_acc': acc, 'test_loss': 1 - acc,
                                              'train_loss': 1 - acc}, json.dumps(config))
  stdout, _ = module('sslgap.show', path, '--metric', 'overfit_acc')  # a derived metric, no seed axis
  assert 'best lr per cell' in stdout and (tmp_path / 'p.overfit_acc.png').exists()  # a metric's figure has its own name


def test_a_table_cell_keeps_its_bars_escaped():
  assert findings.cell('||a|| / ||W||') == '\\|\\|a\\|\\| / \\|\\|W\\|\\|'


def test_a_bad_citation_in_notes_edited_after_the_run_is_said_in_the_report(generated, tmp_path):
  entries, _, _, _ = generated
  first = entries[0]
  path = tmp_path / 'edited.py'
  text = open(first.experiment.config_path).read().replace('[[first]]', '[[second]]')
  path.write_text(text)
  edited = catalog.Experiment(first.experiment.id, 'T', 'learning_curves', str(path), (('small', ''),))
  entry = report.check(report.Entry(edited, 'small', first.folder, grid=first.grid))
  assert entry.notes.startswith('(The notes could not be rendered: config.notes: [[second]] cites no claim')
  assert [v.verdict for v in entry.verdicts] == [v.verdict for v in first.verdicts]  # the verdicts still stand


def test_the_reports_figure_is_drawn_from_the_grid_with_the_plot_section_of_today(generated, tmp_path, monkeypatch):
  entries, _, _, _ = generated
  first = entries[0]
  path = tmp_path / 'retitled.py'
  text = open(first.experiment.config_path).read().replace("lines='dataset_size')",
                                                           "lines='dataset_size', title='Fig T: retitled after the run')")
  path.write_text(text)
  retitled = catalog.Experiment(first.experiment.id, 'T', 'learning_curves', str(path), (('small', ''),))
  entry = report.check(report.Entry(retitled, 'small', first.folder, grid=first.grid))
  assert entry.results.config['plot']['title'] == 'Fig T: retitled after the run'
  drawn = []
  monkeypatch.setattr(report.plotting, 'save', lambda fig, target: drawn.append(fig._suptitle.get_text()))
  report.draw_figure(entry, str(tmp_path / 'figures'), str(tmp_path))
  (title,) = drawn
  assert title.startswith('Fig T: retitled after the run\n(8,3)-parity; mlp, width 16')
  assert entry.figure == os.path.join('figures', f'{first.experiment.id}.png')


def test_a_figure_that_cannot_be_drawn_is_copied_as_it_ran_or_said_missing(generated, tmp_path, monkeypatch):
  entries, _, _, _ = generated
  entry = report.check(report.Entry(entries[0].experiment, 'small', entries[0].folder, grid=entries[0].grid))
  run_png = os.path.splitext(entry.grid)[0] + '.png'
  assert os.path.exists(run_png)

  def broken(grid):
    raise ValueError('no such metric')
  monkeypatch.setattr(report.plotting, 'draw', broken)
  said = []
  report.draw_figure(entry, str(tmp_path / 'figures'), str(tmp_path), log=said.append)
  assert said == [f'warning: {entry.experiment.id}: figure copied as run (ValueError: no such metric)']
  copied = tmp_path / 'figures' / f'{entry.experiment.id}.png'
  assert copied.read_bytes() == open(run_png, 'rb').read()

  bare = tmp_path / 'bare'
  bare.mkdir()
  shutil.copyfile(entry.grid, bare / 'grid.npz')  # a grid whose run left no PNG
  entry.grid, entry.figure, said[:] = str(bare / 'grid.npz'), None, []
  report.draw_figure(entry, str(tmp_path / 'elsewhere'), str(tmp_path), log=said.append)
  assert said == [f'warning: {entry.experiment.id}: no figure (ValueError: no such metric)']
  assert entry.figure is None


def test_reproduce_update_of_a_design_not_finished_is_refused_not_kept(tmp_path):
  """--update --only of a design with no finished confirmation would bring its earlier row back as kept, as if
  regenerated: refused in one line, naming it."""
  (tmp_path / 'designs').mkdir()
  _, stderr = module_in_process('sslgap.reproduce', '--scale', 'design', '--only', 'fig6_lr', '--update', '--out',
                                tmp_path, expect=2)
  assert stderr.strip() == (f'error: --only: no finished design of fig6_lr in {tmp_path / "designs"} '
                            '(python -m sslgap.design runs it)')


def test_an_update_of_a_report_that_names_no_day_is_refused(tmp_path):
  """A kept row is marked with the day its report was generated: a header without one (edited by hand) is refused."""
  path = tmp_path / 'R.md'
  path.write_text('# Reproduction report\n\nWritten by hand.\n\n## <a id="x"></a>Fig 1: `x`\n\ntext\n')
  (tmp_path / 'R.json').write_text(json.dumps([{'id': 'x', 'sentence': 's', 'config_hash': 'h'}]))
  with pytest.raises(ValueError, match='R.md: its header names no day it was generated on'):
    report.kept_of(str(path), [])
