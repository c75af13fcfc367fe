"""The config schema, its defaults, and the checks that run before anything compiles.

A config has static sections (task, model, loss, optim, data, train) that set shapes and
code, `hp` with every traced hyper-parameter (declared in sslgap.hparams), `sweep` mapping
axis names to values, `engine` for how the sweep is executed, and `plugins`: files (or modules)
that register tasks and models of a user's own. A sweep axis is either an `hp` key (traced,
vmapped; except the dataset sizes in full-batch mode, which set shapes) or a static config path
written with `__` between levels (`model__width`), looped outside.

The schema knows no task or model by name: their fields and rules come from the plug-in that
config.task.name and config.model.kind name (sslgap.tasks, sslgap.models).
"""

import copy
import dataclasses
import difflib
import json
import math
import os

import ml_collections
import numpy as np

from sslgap.base import hparams
from sslgap.training import losses
from sslgap import models
from sslgap.science import notes as notes_lib
from sslgap.training import optim
from sslgap.setup import options
from sslgap.setup import plugins
from sslgap.setup import spec as spec_lib
from sslgap import tasks
from sslgap.errors import ConfigError, ConfigFileError, PluginError, UserError, check, check_choice, is_int, is_number

MATMUL_PRECISIONS = options.MATMUL_PRECISIONS
FREE_SECTIONS = ('plot', 'claims', 'notes', 'paper', 'design')  # read by experiment scripts and the report, not the engine


def _hp_defaults(groups=hparams.BASE_GROUPS):
  values = hparams.config_defaults(groups)
  # an int N or 'online' (0): size fields take both
  return {k: ml_collections.FieldReference(v, field_type=object) if hparams.BY_NAME.get(k) and
          hparams.BY_NAME[k].kind == 'size' else v for k, v in values.items()}


def base_config():
  """Defaults shared by every experiment; sweeps/*.py start from here."""
  c = ml_collections.ConfigDict()
  c.name = 'sweep'  # output files are <out>/<name>.npz and .png
  c.plugins = ()  # python files (or modules) that register tasks and models of your own
  c.task = dict(name='parity', n=20, k=6, test_size=4096)
  c.model = dict(kind='mlp', **models.MLPModel.fields)
  c.loss = 'hinge'
  c.optim = dict(kind='sgd', eps=1e-8)
  c.data = options.defaults('data')  # the static options are declared in sslgap.options
  c.train = options.defaults('train')
  c.hp = _hp_defaults()
  c.sweep = ml_collections.ConfigDict()
  c.engine = options.defaults('engine')
  return c


def load(spec):
  """The config of 'path/to/config.py[:preset]' (config files are code: this runs get_config, anew
  each time). ConfigFileError says in one line what is wrong with the file."""
  if not isinstance(spec, (str, os.PathLike)):
    raise ConfigFileError(f"a config is a ConfigDict or 'path/to/config.py[:preset]', got {type(spec).__name__}")
  path, _, preset = str(spec).partition(':')
  if not os.path.isfile(path):
    raise ConfigFileError(f'{path}: no such config file')
  if not path.endswith('.py'):
    raise ConfigFileError(f'{path}: not a config file (a Python file with get_config(arg), '
                          'e.g. sweeps/fig1_parity.py:small)')
  module = plugins.import_file(path, 'sslgap_config', error=ConfigFileError, again=True)
  if not callable(getattr(module, 'get_config', None)):
    raise ConfigFileError(f'{path} has no get_config(arg) function')
  try:
    config = module.get_config(preset or None)
  except UserError as e:
    raise ConfigFileError(f'{path}: {e}') from None
  except Exception as e:  # noqa: BLE001 - the config file's own error, named with the file
    raise ConfigFileError(f'{path}: get_config({preset or None!r}) failed: {type(e).__name__}: {e}') from None
  if not isinstance(config, ml_collections.ConfigDict):
    raise ConfigFileError(f'{path}: get_config({preset or None!r}) returned {type(config).__name__}, '
                          'not an ml_collections.ConfigDict (a missing return?)')
  plugins_beside(config, path)
  return config


def plugins_beside(config, config_path):
  """A plug-in path that names no file from the working folder but one beside the config file is that
  one (written relative to the working folder, as every process of the sweep runs from there). The one
  rule of sslgap.run and the experiment scripts (which load their config through config_flags)."""
  folder = os.path.dirname(os.path.abspath(config_path))
  paths = config.get('plugins', ())
  if not isinstance(paths, (tuple, list)):
    return  # the checks name it
  resolved = []
  for p in paths:
    beside = os.path.join(folder, p) if isinstance(p, str) and not os.path.isabs(p) else None
    if beside and p.endswith('.py') and not os.path.isfile(p) and os.path.isfile(beside):
      p = os.path.relpath(beside)
    resolved.append(p)
  if list(resolved) != list(paths):
    config.plugins = tuple(resolved)


def log2_grid(low, high, per_octave):
  """Powers of two from 2**low to 2**high with `per_octave` points per doubling."""
  count = int(round((high - low) * per_octave)) + 1
  return tuple(float(2.0**e) for e in np.linspace(low, high, count))


def set_model(config, kind, **fields):
  """Replaces config.model with a registered model (its defaults, then `fields`), and gives
  config.hp an init scale and lr multiplier (1.0) for each of its layer groups it lacks."""
  cls = models.MODELS[kind]
  config.model = ml_collections.ConfigDict(dict(kind=kind, **dict(cls.fields, **fields)))
  for group in hparams.layer_group_names(config):
    for h in hparams.DECLARED:
      if h.per_group and hparams.config_key(h, group) not in config.hp:
        config.hp[hparams.config_key(h, group)] = h.default
  return config


QK_GROUPS = models.QK_GROUPS


def set_transformer(config, layers=2, heads=4, dim=64, mlp_ratio=4, causal=False, qk_norm=False,
                    readout='mean', layer_groups=QK_GROUPS):
  """Replaces config.model with a Transformer; W_Q and W_K form the group 'qk' by default."""
  return set_model(config, 'transformer', layers=layers, heads=heads, dim=dim, mlp_ratio=mlp_ratio, causal=causal,
                   qk_norm=qk_norm, readout=readout, layer_groups=layer_groups)


def set_task(config, **fields):
  """Replaces config.task (whose fields depend on the task) with `fields`."""
  config.task = ml_collections.ConfigDict(fields)
  return config


def to_json(config):
  return config.to_json(sort_keys=False)


def from_grid(config_dict):
  """The ConfigDict of a grid's config_json, with the options declared since it was written at their
  defaults (an older grid's config may lack engine.call_width, say)."""
  config = ml_collections.ConfigDict(config_dict)
  for section in options.SECTIONS:
    for name, default in options.defaults(section).items():
      if section in config and name not in config[section]:
        config[section][name] = default
  return config


def section_json(config, name):
  """A section of the config as the grid's config_json holds it (None if it has none)."""
  if name not in config:
    return None
  return json.loads(json.dumps(config.to_dict()[name] if hasattr(config, 'to_dict') else config[name],
                               default=list))


def sweep_axes(config):
  """[(axis name, list of values)] in the order the config declares them."""
  declared = json.loads(config.sweep.to_json(sort_keys=False))
  return [(name, list(config.sweep[name])) for name in declared]


def static_path(axis):
  return axis.split('__')


def is_static_axis(config, axis):
  """A config path, or an hp key that sets shapes (the dataset sizes of full-batch GD): looped, one
  compile per value."""
  return axis not in config.hp or (spec_lib.is_full_batch(config) and axis in hparams.SCHEDULE_KEYS)


def with_values(config, assignments):
  """A copy of config with {axis name: value} set (hp keys or section__field paths)."""
  new = copy.deepcopy(config)
  new.unlock()
  for axis, value in assignments.items():
    if axis in new.hp:
      new.hp[axis] = value
    else:
      *parents, leaf = static_path(axis)
      node = new
      for p in parents:
        node = node[p]
      node[leaf] = value
  return new


def static_points(config):
  """Every combination of the static axes' values, as {axis: value} dicts."""
  points = [{}]
  for axis, values in sweep_axes(config):
    if is_static_axis(config, axis):
      points = [dict(p, **{axis: v}) for p in points for v in values]
  return points


def concrete_config(config, point):
  """The config of one static point: its values set and its axes no longer swept."""
  new = with_values(config, point)
  for axis in point:
    del new.sweep[axis]
  return new


# --- validation ------------------------------------------------------------

def _check_no_unknown(node, known, prefix):
  for key in node.keys():
    if key not in known:
      close = difflib.get_close_matches(key, known, n=1)
      hint = f'; did you mean {prefix}{close[0]}?' if close else f'; known: {sorted(known)}'
      raise ConfigError(f'{prefix}{key}', f'unknown key{hint}')


def load_plugins(config):
  """Imports the config's plug-ins (tasks, models, optimisers, metrics, claim kinds) once each."""
  paths = config.get('plugins', ())
  check(isinstance(paths, (tuple, list)) and all(isinstance(p, str) for p in paths), 'plugins',
         f'must be a tuple of python files or module names, got {paths!r}')
  try:
    plugins.load(paths)
  except PluginError as e:
    raise ConfigError('plugins', str(e)) from None
  # A traced hyper-parameter a plug-in declared (an optimiser's own) takes its default where the config,
  # built before the plug-in was imported, has none.
  for name in hparams.PLUGGED:
    if not hparams.BY_NAME[name].per_group and name not in config.hp:
      config.hp[name] = hparams.BY_NAME[name].default


def _check_task(config):
  t = config.task
  check('name' in t, 'task.name', 'missing')
  check_choice(t.name, tasks.TASKS, 'task.name')
  fields = tasks.fields_of(tasks.TASKS[t.name])
  needed = {k for k, default in fields.items() if default is dataclasses.MISSING} | {'test_size'}
  allowed = set(fields) | {'test_size'}
  have = set(t.keys()) - {'name'}
  check(not needed - have, 'task', f'task {t.name!r} needs fields {sorted(needed - have)}')
  check(not have - allowed, 'task',
         f'task {t.name!r} does not take fields {sorted(have - allowed)}; it takes {sorted(allowed)}')
  types = {f.name: f.type for f in dataclasses.fields(tasks.TASKS[t.name])}
  for field in have:
    if types.get(field, int) in (int, 'int'):
      check(is_int(t[field]) and t[field] >= 1, f'task.{field}', f'must be a positive integer, got {t[field]!r}')
  task = tasks.make_task(t)
  task.check(t)
  return task


def _check_model_kind_and_groups(config):
  check(isinstance(config.get('model'), ml_collections.ConfigDict) and 'kind' in config.model, 'model.kind', 'missing')
  check_choice(config.model.kind, models.MODELS, 'model.kind')
  rules = config.model.get('layer_groups', ())
  check(isinstance(rules, (tuple, list)), 'model.layer_groups', f'must be a tuple of (regex, group) pairs, got {rules!r}')
  for rule in rules:
    check(isinstance(rule, (tuple, list)) and len(rule) == 2 and all(isinstance(r, str) for r in rule),
           'model.layer_groups', f'each rule must be a (layer regex, group name) pair, got {rule!r}')


def _check_model(config, task):
  cls = models.MODELS[config.model.kind]
  _check_no_unknown(config.model, ['kind', *cls.fields], 'model.')
  cls(ml_collections.FrozenConfigDict(config.model), task).check(config)
  groups = hparams.layer_group_names(config)
  for group in groups:
    for h in hparams.DECLARED:
      if h.per_group:
        key = hparams.config_key(h, group)
        check(key in config.hp, 'model.layer_groups',
               f'group {group!r} needs config.hp.{key} (config_lib.set_model adds it)')
  for group in config.data.online_groups:
    check(group in groups, 'data.online_groups', f'{group!r} is not a layer group; groups: {groups}')


def _check_options(config, section, task=None):
  """Every declared option of a section (sslgap.options); the debias kinds are the task's."""
  for option in options.of_section(section):
    choices = task.debias_kinds if option.key == 'data.debias' else None
    options.check_value(option, config[section][option.name], choices)


def _check_training(config, task):
  check_choice(config.loss, losses.LOSSES, 'loss')
  suited = losses.LOSSES_FOR_LABELS[task.label_kind]
  check(config.loss in suited, 'loss',
        f'task {config.task.name!r} has {task.label_kind} labels, which need one of {suited}, got {config.loss!r}')
  check_choice(config.optim.kind, optim.OPTIMIZERS, 'optim.kind')
  _check_options(config, 'data', task)
  if config.data.schedule == 'auto':
    check(not spec_lib.is_full_batch(config) and hparams.is_multi_phase(config), 'data.schedule',
          "'auto' moves through hp.phase_sizes during mini-batch training; set them (and data.mode=minibatch)")
    check(task.label_kind == 'sign', 'data.schedule', "'auto' advances on train accuracy, which needs +-1 labels")
  _check_options(config, 'train')
  tr = config.train
  check(tr.steps % tr.eval_every == 0, 'train.eval_every', f'must divide train.steps={tr.steps}, got {tr.eval_every}')


def _check_size(config, task, value, where):
  if value == hparams.ONLINE_NAME:
    value = hparams.ONLINE
  check(is_int(value) and value >= 0, where,
         f"must be a dataset size (positive integer) or 'online' (0), got {value!r}")
  check(value <= task.population_size, where, f'{value} exceeds the population size {task.population_size}')
  if value == 0:
    check(not spec_lib.is_full_batch(config), where, 'full-batch GD needs a finite dataset, not online')
    return
  group = task.debias_group_size(config.data.debias)
  check(value % group == 0, where,
         f'data.debias={config.data.debias!r} is exact for sizes that are multiples of {group}, got {value}')
  if not spec_lib.is_full_batch(config) and config.data.sampling == 'without_replacement':
    check(config.train.batch_size <= value, where,
           f'batch_size={config.train.batch_size} is larger than the dataset ({value}) sampled without replacement')


def _check_hp_value(config, task, hparam, value, where):
  """Checks one value (a default or a swept one) of a declared hyper-parameter."""
  message = hparams.check_value(hparam, value, where, task.population_size)
  check(message is None, where, message)
  if hparam.kind == 'size':
    _check_size(config, task, value, where)
  elif hparam.kind == 'sizes':
    check(isinstance(value, (tuple, list)), where, f'must be a tuple of sizes, got {value!r}')
    for i, s in enumerate(value):
      _check_size(config, task, s, f'{where}[{i}]')
    numeric = [math.inf if hparams.size_value(s) == 0 else s for s in value]
    check(all(a <= b for a, b in zip(numeric, numeric[1:])), where,
           f'phase sizes must not decrease (nested subsets, online last), got {tuple(value)}')


def _check_hp(config, facts, task):
  for hparam, group in hparams.used_hparams(facts):
    key = hparams.config_key(hparam, group)
    check(key in config.hp, f'hp.{key}', 'missing')
    if key in config.sweep:
      for i, value in enumerate(config.sweep[key]):
        _check_hp_value(config, task, hparam, value, f'sweep.{key}[{i}]')
    else:
      _check_hp_value(config, task, hparam, config.hp[key], f'hp.{key}')
  if getattr(task, 'debias_whole_pool_only', False) and config.data.debias != 'none':
    finite = {s for s in hparams.all_dataset_sizes(config) if s}
    check(len(finite) == 1, 'data.debias', f'{config.task.name} debiasing is exact for the whole pool only: '
           f'use one finite dataset size, got {sorted(finite)}')
  if hparams.is_multi_phase(config):
    phases = [len(v) for v in hparams.axis_values(config, 'phase_sizes')]
    check(len(set(phases)) == 1, 'sweep.phase_sizes',
           f'every value must have the same number of phases (it sets shapes), got {phases}')
    for lengths in ([] if config.data.schedule == 'auto' else hparams.axis_values(config, 'phase_lengths')):
      check(len(lengths) == phases[0] - 1, 'hp.phase_lengths',
             f'needs one length per phase but the last ({phases[0] - 1}), got {tuple(lengths)}')


_TEXT_NAMES = {'nan': math.nan, 'inf': math.inf, 'online': hparams.ONLINE_NAME}


def _read_text_tuple(text):
  """The values of a tuple written as text that Python's literals do not cover ('(0.1,nan)', as
  the command line leaves it), or None if it is not one."""
  import ast

  def value(node):
    if isinstance(node, ast.Constant):
      return node.value
    if isinstance(node, ast.Name) and node.id in _TEXT_NAMES:
      return _TEXT_NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
      return -value(node.operand)
    if isinstance(node, (ast.Tuple, ast.List)):
      return tuple(value(e) for e in node.elts)
    raise ValueError(node)

  try:
    parsed = value(ast.parse(text.strip(), mode='eval').body)
  except (SyntaxError, ValueError, TypeError):
    return None
  return parsed if isinstance(parsed, tuple) else None


def _axis_key(value):
  """A swept value as it identifies a grid point: 'online' is 0, tuples compare element by element."""
  if isinstance(value, (tuple, list)):
    return tuple(_axis_key(v) for v in value)
  return hparams.ONLINE if value == hparams.ONLINE_NAME else value


def _check_no_duplicates(axis, values):
  seen = {}
  for i, value in enumerate(values):
    try:
      key = _axis_key(value)
      first = seen.setdefault(key, i)
    except TypeError:  # an unhashable value: its own type check says what is wrong with it
      continue
    why = (': the same seed twice is one run counted as two, with intervals of zero width' if 'seed' in axis
           else ': each value is one grid point')
    check(first == i, f'sweep.{axis}[{i}]', f'{value!r} is already value [{first}] of this axis{why}')


def _check_text_axis(config, axis, text):
  """A sweep axis the command line left as text: the value inside it that is wrong, if any."""
  values = _read_text_tuple(text)
  hparam = hparams.BY_NAME.get(axis)
  if values is not None and hparam is not None and hparam.kind in ('float', 'int', 'seed'):
    for i, value in enumerate(values):
      message = hparams.check_value(hparam, value, f'sweep.{axis}[{i}]', math.inf)
      check(message is None, f'sweep.{axis}[{i}]', message)
  raise ConfigError(f'sweep.{axis}', f'got the text {text!r}, which is not a tuple of values; write one like '
                    '(0.1,0.2), quoted for the shell')


def _check_sweep(config):
  used = set(hparams.used_hp_keys(spec_lib.facts_of(config)))
  for axis, values in sweep_axes(config):
    where = f'sweep.{axis}'
    if isinstance(config.sweep[axis], str):
      _check_text_axis(config, axis, config.sweep[axis])
    check(isinstance(config.sweep[axis], (tuple, list)) and len(values) > 0, where,
           f'must be a non-empty tuple of values, got {config.sweep[axis]!r}')
    _check_no_duplicates(axis, values)
    if axis in config.hp:
      check(axis in used, where,
             f'hp.{axis} is not used by this config (optim.kind={config.optim.kind!r}, '
             f'multi-phase={hparams.is_multi_phase(config)}), so sweeping it changes nothing')
      continue
    node, parts = config, static_path(axis)
    for depth, part in enumerate(parts):
      if not isinstance(node, ml_collections.ConfigDict) or part not in node:
        raise ConfigError(where, f'{axis!r} is neither an hp key ({sorted(config.hp.keys())}) '
                          f'nor a config path (section__field); '
                          f'{".".join(parts[:depth + 1])} does not exist')
      node = node[part]
    check(parts[0] not in ('sweep', 'engine', 'hp', 'plugins'), where, 'this section cannot be swept')
    for i, value in enumerate(values):
      check(type(value) is type(node) or (is_number(value) and is_number(node)), f'{where}[{i}]',
             f'must be of type {type(node).__name__} like config.{".".join(parts)}, got {value!r}')


def _check_known_keys(config):
  """Every key is one the engine reads (a typo on the command line is not silently a new key)."""
  base = base_config()
  _check_no_unknown(config, list(base.keys()) + list(FREE_SECTIONS), '')
  for section in ('optim', 'data', 'train', 'engine'):
    _check_no_unknown(config[section], list(base[section].keys()), f'{section}.')
  groups = hparams.layer_group_names(config)
  known_hp = [hparams.config_key(h, g) for h in hparams.DECLARED
              for g in (sorted(set(groups) | set(hparams.BASE_GROUPS)) if h.per_group else (None,))]
  _check_no_unknown(config.hp, known_hp, 'hp.')


@dataclasses.dataclass(frozen=True)
class Point:
  """One static point of a sweep, resolved once and checked: its axis values, its concrete config, the
  Facts that decide its traced hyper-parameters, and its task (built once; the run spec takes them)."""
  values: dict
  config: object
  facts: object
  task: object


def checked_points(config):
  """[Point]: the config checked as a whole and at every static point of the sweep (ConfigError names
  the first bad key). Each point's task is built and its facts derived here once, and its run spec
  takes them (sslgap.spec.derive)."""
  load_plugins(config)
  _check_model_kind_and_groups(config)
  _check_known_keys(config)
  task = _check_task(config)
  _check_model(config, task)
  _check_training(config, task)
  _check_sweep(config)
  _check_options(config, 'engine')
  notes_lib.check(config)
  points, built = [], {config.task.to_json(sort_keys=True): task}
  for point in static_points(config):
    concrete = concrete_config(config, point)
    section = concrete.task.to_json(sort_keys=True)
    if section not in built:  # a static axis of the task itself (task__k): its own task, built once
      built[section] = _check_task(concrete)
    task = built[section]
    if point:
      _check_model(concrete, task)
      _check_training(concrete, task)
    facts = spec_lib.facts_of(concrete)
    _check_hp(concrete, facts, task)
    points.append(Point(point, concrete, facts, task))
  return points


def validate(config):
  """Raises ConfigError naming the first bad key; checks every static point of the sweep."""
  checked_points(config)
  return config
