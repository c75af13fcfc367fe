"""The .npz result grid: writing it, and loading it with named-axis selection (numpy only).

Layout (the public contract):
  axis_names           1-D str array, the grid axes in order
  coord_<axis>         1-D array of that axis's values
  eval_steps           1-D int array of the steps at which metrics were recorded
  metric_<name>        [*axis sizes, len(eval_steps)]
  config_json, sslgap_version, jax_version, device_kind
  finished             [*axis sizes] bool: False where a partial merge had no run (NaN there)
  examples_seen        [*axis sizes or 1, E] float64: examples processed by each eval step (the
                       compute axis), written by the engine from the run spec; size 1 on the axes
                       that do not change it (absent in grids from before it was recorded)
"""

import hashlib
import json
import os
from typing import NamedTuple
import warnings
import zipfile

import numpy as np

from sslgap.base import files
from sslgap.base import hparams
from sslgap.science import stats
from sslgap.errors import ResultsError

# Config sections that change no result (how it runs, is drawn, and what is claimed of it).
RESULT_IRRELEVANT = ('engine', 'plot', 'claims', 'notes', 'paper', 'design')


# Options added after grids were made, left out of the hash at their default so that those grids keep
# their hash and resume (sslgap.options declares them with these defaults).
UNHASHED_AT_DEFAULT = {'train': {'scan_unroll': 1}}


def config_hash(config_json):
  """What identifies a grid's results: a hash of its config without RESULT_IRRELEVANT (and without
  the options of UNHASHED_AT_DEFAULT where they have their default)."""
  config = json.loads(config_json)
  relevant = {k: v for k, v in config.items() if k not in RESULT_IRRELEVANT}
  for section, defaults in UNHASHED_AT_DEFAULT.items():
    if isinstance(relevant.get(section), dict):
      relevant[section] = {k: v for k, v in relevant[section].items() if not (k in defaults and v == defaults[k])}
  return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def coord_array(values):
  """Axis values as a numpy array. 'online' is 0 everywhere a grid holds it (the one representation of
  coords, xarray, DataFrames, show and sel; figures write the word): a dataset size, and an entry of
  a tuple, which is stored as its string, '(16, 0)'."""
  online = lambda v: hparams.ONLINE if v == hparams.ONLINE_NAME else v
  values = [online(v) for v in values]
  if any(isinstance(v, (tuple, list)) for v in values):
    return np.asarray([str(tuple(online(x) for x in v)) for v in values])
  return np.asarray(values)


def parse_coord(value):
  """A stored coordinate as a value: tuples come back from their string form, 'online' as 0."""
  text = str(value)
  if text.startswith('('):
    parts = [v.strip(" '") for v in text[1:-1].split(',') if v.strip()]
    return tuple(hparams.size_value(v) if v == hparams.ONLINE_NAME or v.lstrip('-').isdigit() else v for v in parts)
  return value.item() if hasattr(value, 'item') else value


def atomic_savez(path, **arrays):
  """Writes an .npz durably next to its final path, then renames it: readers never see half a file."""
  files.ensure_folder(os.path.dirname(os.path.abspath(path)))
  files.atomic_write(path, lambda f: np.savez(f, **arrays))


def save(path, axes, eval_steps, metrics, config_json, finished=None, examples_seen=None, **info):
  """axes: [(name, values)], metrics: {name: array [*axis sizes, E]}, finished: [*axis sizes] bool
  (all True if not given), examples_seen: [*axis sizes or 1, E] (see the module docstring)."""
  arrays = {
      'axis_names': np.asarray([name for name, _ in axes]),
      'eval_steps': np.asarray(eval_steps, np.int64),
      'config_json': np.asarray(config_json),
  }
  for name, values in axes:
    arrays[f'coord_{name}'] = coord_array(values)
  grid = tuple(len(values) for _, values in axes)
  shape = grid + (len(eval_steps),)
  for name, value in metrics.items():
    if value.shape != shape:
      raise ValueError(f'metric {name!r} has shape {value.shape}, expected {shape}')
    arrays[f'metric_{name}'] = value
  arrays['finished'] = np.ones(grid, bool) if finished is None else np.asarray(finished, bool).reshape(grid)
  if examples_seen is not None:
    arrays['examples_seen'] = np.asarray(examples_seen, np.float64)
  arrays.update({k: np.asarray(v) for k, v in info.items()})
  atomic_savez(path, **arrays)


class Interval(NamedTuple):
  """A bootstrap interval: the statistic of the data itself (mid) between low and high; Results
  without the resampled axis from Results.bootstrap, arrays from median_steps_to_target."""

  low: 'Results'
  mid: 'Results'
  high: 'Results'


class Results:
  """A result grid with named axes. Selection and reduction return new Results."""

  def __init__(self, axis_names, coords, eval_steps, metrics, config=None, info=None, finished=None, examples=None,
               path=None):
    self.axis_names = list(axis_names)
    self.coords = dict(coords)
    self.eval_steps = np.asarray(eval_steps)
    self.metrics = dict(metrics)
    self.config = config or {}
    self.info = info or {}
    self.finished = np.ones(self.shape, bool) if finished is None else np.asarray(finished, bool)
    self.examples = None if examples is None else np.asarray(examples, float)  # see examples_seen
    self.path = path  # the .npz it was loaded from (results.load), kept by what derives from it

  @property
  def evaluations_done(self):
    """[*axis sizes] int: how many of the eval steps each run has (all of them once finished; a partial
    merge, `merge --allow_missing`, takes the runs in flight up to their chunk's last checkpoint)."""
    stored = self.info.get('evaluations_done')
    if stored is not None and np.shape(stored) == self.shape:
      return np.asarray(stored)
    return np.where(self.finished, len(self.eval_steps), 0)

  @property
  def folder(self):
    return os.path.dirname(self.path) if self.path else None

  def __repr__(self):
    axes = ', '.join(f'{a}[{len(self.coords[a])}]' for a in self.axis_names)
    return f'Results(axes=({axes}), eval_steps[{len(self.eval_steps)}], metrics={sorted(self.metrics)})'

  def with_config(self, config):
    """The same grid described by another config dict (a plot section edited after the run)."""
    return Results(self.axis_names, self.coords, self.eval_steps, self.metrics, config, self.info, self.finished,
                   self.examples, self.path)

  def with_plot(self, plot):
    """The same grid drawn by another plot section (None: the default figure); plot changes no result."""
    return self.with_config(dict(self.config, plot=plot))

  def with_examples(self, examples):
    """The same grid with its compute axis (for a grid written before the engine recorded it)."""
    return Results(self.axis_names, self.coords, self.eval_steps, self.metrics, self.config, self.info,
                   self.finished, examples, self.path)

  def __getitem__(self, metric):
    """The metric array, shape [*axis sizes, len(eval_steps)]."""
    if metric not in self.metrics:
      raise KeyError(f'no metric {metric!r}; have {sorted(self.metrics)}')
    return self.metrics[metric]

  @property
  def shape(self):
    return tuple(len(self.coords[a]) for a in self.axis_names)

  def _axis(self, name):
    if name not in self.axis_names:
      raise KeyError(f'no axis {name!r}; axes are {self.axis_names}')
    return self.axis_names.index(name)

  def _is_tuple_axis(self, axis):
    coords = self.coords[axis]
    return coords.dtype.kind == 'U' and coords.size > 0 and str(coords[0]).startswith('(')

  def _index_of(self, axis, value):
    coords = self.coords[axis]
    if self._is_tuple_axis(axis):
      wanted = parse_coord(value if isinstance(value, str) else str(tuple(value)))  # 'online' and 0 alike
      hits = np.flatnonzero([parse_coord(c) == wanted for c in coords])
    elif coords.dtype.kind in 'fc':
      hits = np.flatnonzero(np.isclose(coords, value, rtol=1e-6, atol=0))
    else:
      hits = np.flatnonzero(coords == (hparams.ONLINE if value == hparams.ONLINE_NAME else value))
    if hits.size == 0:
      raise KeyError(f'axis {axis!r} has no value {value!r}; values: {coords.tolist()}')
    return int(hits[0])

  def sel(self, **selection):
    """Selects by coordinate value: a scalar drops the axis, a list keeps it. On an axis of
    tuples (phase_sizes), a tuple is one value."""
    out = self
    for axis, value in selection.items():
      i = out._axis(axis)
      single = (self._is_tuple_axis(axis) and isinstance(value, (tuple, list))
                and not (value and isinstance(value[0], (tuple, list))))  # one tuple, as JSON gives it back too
      if isinstance(value, (list, tuple, np.ndarray)) and not single:
        index = [out._index_of(axis, v) for v in value]
        coords = dict(out.coords, **{axis: out.coords[axis][index]})
        names = out.axis_names
      else:
        index = out._index_of(axis, value)
        coords = {a: c for a, c in out.coords.items() if a != axis}
        names = [a for a in out.axis_names if a != axis]
      metrics = {m: np.take(v, index, axis=i) for m, v in out.metrics.items()}
      out = Results(names, coords, out.eval_steps, metrics, out.config, out.info, np.take(out.finished, index, axis=i),
                    _take_broadcast(out.examples, index, i), out.path)
    return out

  def reduce(self, axis, fn):
    i = self._axis(axis)
    metrics = {m: fn(v, axis=i) for m, v in self.metrics.items()}
    names = [a for a in self.axis_names if a != axis]
    coords = {a: c for a, c in self.coords.items() if a != axis}
    return Results(names, coords, self.eval_steps, metrics, self.config, self.info, np.all(self.finished, axis=i),
                   _drop_broadcast(self.examples, i), self.path)

  def mean(self, axis='seed'):
    """Mean over an axis (seeds by default), ignoring diverged (NaN) runs."""
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', RuntimeWarning)  # all-NaN slices stay NaN
      return self.reduce(axis, np.nanmean)

  def std(self, axis='seed'):
    """Standard deviation over an axis (seeds by default), ignoring diverged (NaN) runs."""
    with warnings.catch_warnings():
      warnings.simplefilter('ignore', RuntimeWarning)
      return self.reduce(axis, lambda v, axis: np.nanstd(v, axis=axis, ddof=1))

  def sem(self, axis='seed'):
    """Standard error of the mean over an axis (seeds by default), ignoring diverged runs."""
    return self.reduce(axis, stats.sem)

  def bootstrap(self, fn=np.nanmean, n=2000, ci=0.95, axis='seed', seed=0, metrics=None):
    """Interval(low, mid, high): Results without `axis` holding the percentile bootstrap interval
    of fn over resamples of that axis (seeds), and fn of the data itself (mid); vectorised."""
    i = self._axis(axis)
    names = [a for a in self.axis_names if a != axis]
    coords = {a: c for a, c in self.coords.items() if a != axis}
    parts = {m: stats.bootstrap(self.metrics[m], fn, n, ci, axis=i, seed=seed) for m in (metrics or self.metrics)}
    finished = np.all(self.finished, axis=i)
    examples = _drop_broadcast(self.examples, i)
    make = lambda k: Results(names, coords, self.eval_steps, {m: p[k] for m, p in parts.items()}, self.config,
                             self.info, finished, examples, self.path)
    return Interval(make(0), make(1), make(2))

  def final(self, metric):
    """The metric at the last evaluation step, shape [*axis sizes]."""
    return self[metric][..., -1]

  def diverged(self, metric='test_loss'):
    """Coordinates ({axis: value}) of the finished runs whose final metric is NaN or infinite."""
    bad = np.argwhere(~np.isfinite(self.final(metric)) & self.finished)
    return [{a: self.coords[a][i].item() for a, i in zip(self.axis_names, index)} for index in bad]

  def steps_to_target(self, metric, target, above=True, censored=False):
    """First eval step at which the metric reaches target (>= if above, else <=), per run. A run
    that never reaches it is NaN, or +inf with censored=True ("more than the last step"), which
    keeps it in a median over seeds instead of dropping it."""
    steps = stats.first_step(self[metric], self.eval_steps, target, above)
    return steps if censored else np.where(np.isinf(steps), np.nan, steps)

  def success_probability(self, metric, target, above=True, axis='seed'):
    """[*other axes, E]: the fraction of runs along `axis` that reached the target by each step."""
    values = np.moveaxis(self[metric], self._axis(axis), -2)
    return stats.success_probability(values, target, above, axis=-2)

  def median_steps_to_target(self, metric, target, above=True, axis='seed', n=2000, ci=0.95, seed=0):
    """Interval(low, mid, high) of arrays over `axis` of the censored steps to target: mid is the
    median, +inf means more than the last step (half of the runs or more never reached it)."""
    steps = self.steps_to_target(metric, target, above, censored=True)
    return Interval(*stats.bootstrap(steps, stats.censored_median, n, ci, axis=self._axis(axis), seed=seed))

  def compute_to_target(self, metric, target, above=True):
    """Examples processed until the target (see examples_seen); NaN if never reached."""
    values = self[metric]
    hit = values >= target if above else values <= target
    seen = np.broadcast_to(self.examples_seen(), values.shape)
    compute = np.take_along_axis(seen, np.argmax(hit, axis=-1)[..., None], axis=-1)[..., 0]
    return np.where(hit.any(axis=-1), compute, np.nan)

  def _coord_values(self, axis):
    """An axis's coordinates for other libraries: tuples stay strings (xarray wants 1-D arrays), with
    'online' as 0 in them too (a grid written before that spelled it out)."""
    if self._is_tuple_axis(axis):
      return np.asarray([str(c).replace(f"'{hparams.ONLINE_NAME}'", str(hparams.ONLINE)) for c in self.coords[axis]])
    return self.coords[axis]

  def to_xarray(self):
    """An xarray.Dataset: a variable per metric with dims (*axes, 'step'), `finished` over the axes,
    coordinates for every axis, and the config (JSON) and versions as attrs. Needs the `analysis`
    extra (pip install -e '.[analysis]')."""
    xr = _optional('xarray')
    dims = list(self.axis_names) + ['step']
    data_vars = {m: (dims, v) for m, v in self.metrics.items()}
    data_vars['finished'] = (list(self.axis_names), self.finished)
    coords = {a: self._coord_values(a) for a in self.axis_names}
    coords['step'] = self.eval_steps
    attrs = {'config_json': json.dumps(self.config), 'name': self.config.get('name', '')}
    attrs.update({k: (v if isinstance(v, (str, int, float)) else str(v)) for k, v in self.info.items()})
    return xr.Dataset(data_vars, coords=coords, attrs=attrs)

  def to_dataframe(self):
    """A long pandas.DataFrame: one row per run and eval step, a column per axis, `step`, a
    column per metric and `finished`. Needs the `analysis` extra."""
    pd = _optional('pandas')
    grids = np.meshgrid(*[np.arange(n) for n in self.shape], np.arange(len(self.eval_steps)), indexing='ij')
    columns = {a: self._coord_values(a)[grids[i].ravel()] for i, a in enumerate(self.axis_names)}
    columns['step'] = self.eval_steps[grids[-1].ravel()]
    columns.update({m: v.ravel() for m, v in self.metrics.items()})
    columns['finished'] = np.repeat(self.finished.ravel(), len(self.eval_steps))
    return pd.DataFrame(columns)

  def examples_seen(self):
    """Cumulative examples processed at each eval step, [*axis sizes or 1, E] (size 1 on the axes
    that do not change it): batch x steps, or for full-batch GD the datasets of its phases."""
    if self.examples is None:
      raise ResultsError('this grid has no examples_seen (written by sslgap before it was recorded): '
                         'sslgap.sweep.with_examples(results) derives it from the grid\'s config')
    return self.examples

  def examples_at(self, selection):
    """[E] examples processed by the runs of one selection (a series: the axes that change it fixed)."""
    seen = self.sel(**selection).examples_seen() if selection else self.examples_seen()
    flat = seen.reshape(-1, seen.shape[-1])
    if not np.all(flat == flat[:1]):
      raise ValueError(f'the selection {selection} leaves runs that processed different examples')
    return flat[0]


def _take_broadcast(examples, index, axis):
  """np.take on an array whose axis may be a broadcast one (size 1)."""
  if examples is None:
    return None
  if examples.shape[axis] == 1:
    return examples if isinstance(index, list) else np.take(examples, 0, axis=axis)
  return np.take(examples, index, axis=axis)


def _drop_broadcast(examples, axis):
  """The array without `axis` (reduced over), or None where the axis changes it."""
  if examples is None:
    return None
  if examples.shape[axis] == 1 or np.all(examples == np.take(examples, [0], axis=axis)):
    return np.take(examples, 0, axis=axis)
  return None


def _optional(module):
  try:
    return __import__(module)
  except ImportError:
    raise ImportError(f"{module} is not installed: pip install -e '.[analysis]' (xarray and pandas)") from None


CONTRACT_KEYS = ('axis_names', 'eval_steps', 'config_json')


_MAGIC = {b'PK\x03\x04': 'npz', b'\x93NUMPY': 'npy', b'\x89PNG': 'a PNG image', b'%PDF': 'a PDF',
          b'<?xm': 'an SVG or XML file', b'<svg': 'an SVG image'}


def _kind_of_file(path):
  """'npz', 'npy', or what else the file looks like (from its first bytes)."""
  with open(path, 'rb') as f:
    head = f.read(8)
  for magic, kind in _MAGIC.items():
    if head.startswith(magic):
      return kind
  if head.lstrip()[:1] in (b'{', b'['):
    return 'a JSON file'
  return 'text' if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head) else 'not a numpy file'


def load(path):
  """The grid in an .npz written by sslgap; ResultsError names the file if it is not one. A grid
  whose config no longer matches its config_hash (edited after it was written) loads with a warning."""
  path = os.fspath(path)
  if os.path.isdir(path):
    grids = sorted(f for f in os.listdir(path) if f.endswith('.npz'))
    hint = f': give the grid inside it, e.g. {os.path.join(path, grids[0])}' if grids else ' (it holds no .npz grid)'
    raise ResultsError(f'{path} is a folder{hint}')
  if not os.path.isfile(path):
    raise ResultsError(f'{path}: no such file')
  try:
    kind = _kind_of_file(path)
  except OSError as e:
    raise ResultsError(f'{path} cannot be read ({files.describe(e)})') from None
  if kind == 'npy':
    raise ResultsError(f'{path} is a single numpy array, not an sslgap result grid (.npz)')
  if kind != 'npz':
    raise ResultsError(f'{path} is {kind}, not an sslgap result grid (.npz)')
  try:
    with np.load(path, allow_pickle=False) as f:
      missing = [k for k in CONTRACT_KEYS if k not in f.files]
      if missing:
        raise ResultsError(f'{path} is not an sslgap result grid: it lacks {missing}')
      names = [str(a) for a in f['axis_names']]
      coords = {a: f[f'coord_{a}'] for a in names}
      metrics = {k[len('metric_'):]: f[k] for k in f.files if k.startswith('metric_')}
      config_json = str(f['config_json'])
      finished = f['finished'] if 'finished' in f.files else None
      examples = f['examples_seen'] if 'examples_seen' in f.files else None
      info = {k: f[k].item() if f[k].ndim == 0 else f[k] for k in f.files
              if k not in CONTRACT_KEYS + ('finished', 'examples_seen') and not k.startswith(('coord_', 'metric_'))}
      eval_steps = f['eval_steps']
  except ResultsError:
    raise
  except (ValueError, OSError, KeyError, EOFError, zipfile.BadZipFile) as e:
    reason = 'it holds Python objects' if 'allow_pickle' in str(e) else str(e) or type(e).__name__
    raise ResultsError(f'{path} is not a readable sslgap result grid ({reason})') from None
  try:
    config = json.loads(config_json)
  except ValueError:
    raise ResultsError(f'{path}: its config_json is not JSON') from None
  if not isinstance(config, dict):
    raise ResultsError(f'{path}: its config_json is a JSON {type(config).__name__}, not the config object')
  stored = info.get('config_hash')
  if stored is not None and str(stored) != config_hash(config_json):
    warnings.warn(f'{path}: its config_json does not match its config_hash (edited after the grid was written?); '
                  'the figure and claims follow the edited config', stacklevel=2)
  return Results(names, coords, eval_steps, metrics, config, info, finished, examples, os.path.abspath(path))


def concat(grids, axis):
  """One Results of grids that differ only along `axis` (its values joined, then sorted): the rounds of a
  pilot whose learning-rate grid widened. Every other axis, the eval steps and the metrics must agree."""
  first = grids[0]
  for g in grids[1:]:
    if g.axis_names != first.axis_names or not np.array_equal(g.eval_steps, first.eval_steps) or \
        set(g.metrics) != set(first.metrics) or any(not np.array_equal(g.coords[a], first.coords[a])
                                                    for a in first.axis_names if a != axis):
      raise ResultsError(f'grids to join along {axis!r} must agree on every other axis, the eval steps and metrics')
  i = first._axis(axis)
  coords = np.concatenate([np.asarray(g.coords[axis]) for g in grids])
  order = np.argsort(coords, kind='stable')
  join = lambda arrays: np.take(np.concatenate(arrays, axis=i), order, axis=i)
  metrics = {m: join([g.metrics[m] for g in grids]) for m in first.metrics}
  examples = None
  if all(g.examples is not None for g in grids):
    examples = first.examples if first.examples.shape[i] == 1 else join([g.examples for g in grids])
  return Results(first.axis_names, dict(first.coords, **{axis: coords[order]}), first.eval_steps, metrics,
                 first.config, first.info, join([g.finished for g in grids]), examples)
