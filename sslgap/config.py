"""The config schema, its defaults, and the checks that run before anything compiles.

A config has static sections (task, model, loss, optim, data, train) that set shapes and
code, `hp` with every traced hyper-parameter, `sweep` mapping axis names to values, and
`engine` for how the sweep is executed. A sweep axis is either an `hp` key (traced,
vmapped; except the dataset sizes in full-batch mode, which set shapes) or a static
config path written with `__` between levels (`model__width`), looped outside.
"""

import copy
import difflib
import json
import math

import ml_collections
import numpy as np

from sslgap import hparams
from sslgap import losses
from sslgap import memory
from sslgap import models
from sslgap import parameterization
from sslgap import data as data_lib
from sslgap import optim
from sslgap import tasks
from sslgap import train

ONLINE = 'online'
MATMUL_PRECISIONS = ('highest', 'tensorfloat32', 'default')


class ConfigError(ValueError):
  """A config problem, named by its key, found before anything is compiled."""

  def __init__(self, key, message):
    super().__init__(f'config.{key}: {message}')
    self.key = key


def base_config():
  """Defaults shared by every experiment; sweeps/*.py start from here."""
  c = ml_collections.ConfigDict()
  c.name = 'sweep'  # output files are <out>/<name>.npz and .png
  c.task = dict(name='parity', n=20, k=6, test_size=4096)
  c.model = dict(kind='mlp', hidden_layers=1, width=64, activation='relu', init='uniform',
                 parameterization='standard', layer_groups=(('hidden_0', 'first'), ('.*', 'rest')))
  c.loss = 'hinge'
  c.optim = dict(kind='sgd', eps=1e-8)
  c.data = dict(mode='minibatch', sampling='with_replacement', phase_unit='steps',
                schedule='fixed', auto_check_every=50, auto_probe_size=1024, debias='none', online_groups=(),
                eval_train_size=4096, eval_batch_size=1024, full_batch_microbatch=0)
  # matmul_precision: 'highest' (float32 products, as PyTorch computes them), 'tensorfloat32' or
  # 'default' (the platform's fastest for float32: TF32 on recent NVIDIA GPUs); no effect on a CPU.
  c.train = dict(batch_size=128, steps=1000, eval_every=100, matmul_precision='highest')
  c.hp = dict(seed=0, data_seed=0, lr=0.1, momentum=0.9, b1=0.9, b2=0.999, weight_decay=0.0,
              init_scale_first=1.0, init_scale_rest=1.0, lr_mult_first=1.0, lr_mult_rest=1.0,
              init_scale_qk=1.0, lr_mult_qk=1.0,
              alpha=1.0, phase_sizes=(), phase_lengths=(), pool_fraction=1.0,
              random_label_phases=0, online_bias_samples=0, auto_train_acc=0.75,
              auto_max_epochs=50.0, a_star=0.5,
              # an int N, or 'online' (0): the field takes both
              dataset_size=ml_collections.FieldReference(0, field_type=object))
  c.sweep = ml_collections.ConfigDict()
  # chunk_size 0: the largest that fits memory_budget ('60GB'), else memory_fraction of one
  # device's memory (0: 80% of an accelerator's allocator limit, 50% of host RAM on a CPU).
  # On a CPU a device's runs keep their training step within cpu_cache_bytes, so they stay in
  # cache: 6MB, i.e. 16 runs of the Figure 6 MLP, measured best by benchmarks/bench_sweep.py.
  # memory_model: how bytes per run are known: 'auto' (XLA's analysis of the compiled kernel at
  # two chunk widths on an accelerator, the formula in sslgap.memory on a CPU), 'formula' or 'measured'.
  c.engine = dict(chunk_size=0, max_chunk_size=65536, memory_budget='', memory_fraction=0.0,
                  cpu_cache_bytes='6MB', memory_model='auto')
  return c


def log2_grid(low, high, per_octave):
  """Powers of two from 2**low to 2**high with `per_octave` points per doubling."""
  count = int(round((high - low) * per_octave)) + 1
  return tuple(float(2.0**e) for e in np.linspace(low, high, count))


QK_GROUPS = ((r'layer_\d+/attn/(q|k)', 'qk'), ('.*', 'rest'))


def set_transformer(config, layers=2, heads=4, dim=64, mlp_ratio=4, causal=False, qk_norm=False,
                    readout='mean', layer_groups=QK_GROUPS):
  """Replaces config.model with a Transformer; W_Q and W_K form the group 'qk' by default."""
  config.model = ml_collections.ConfigDict(dict(
      kind='transformer', layers=layers, heads=heads, dim=dim, mlp_ratio=mlp_ratio, causal=causal,
      qk_norm=qk_norm, readout=readout, init='uniform', parameterization='standard',
      layer_groups=layer_groups))
  return config


def set_task(config, **fields):
  """Replaces config.task (whose fields depend on the task) with `fields`."""
  config.task = ml_collections.ConfigDict(fields)
  return config


def to_json(config):
  return config.to_json(sort_keys=False)


def sweep_axes(config):
  """[(axis name, list of values)] in the order the config declares them."""
  declared = json.loads(config.sweep.to_json(sort_keys=False))
  return [(name, list(config.sweep[name])) for name in declared]


def static_path(axis):
  return axis.split('__')


def is_static_axis(config, axis):
  return axis not in config.hp or axis in hparams.static_hp_keys(config)


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

def _check(condition, key, message):
  if not condition:
    raise ConfigError(key, message)


def _is_int(v):
  return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v):
  return isinstance(v, (int, float)) and not isinstance(v, bool)


def _check_choice(value, choices, key):
  _check(value in choices, key, f'unknown value {value!r}; choose one of {sorted(choices)}')


def _check_task(config):
  t = config.task
  _check('name' in t, 'task.name', 'missing')
  _check_choice(t.name, tasks.TASK_FIELDS, 'task.name')
  needed = set(tasks.TASK_FIELDS[t.name]) | {'test_size'}
  have = set(t.keys()) - {'name'}
  _check(not needed - have, 'task', f'task {t.name!r} needs fields {sorted(needed - have)}')
  _check(not have - needed, 'task',
         f'task {t.name!r} does not take fields {sorted(have - needed)}; it takes {sorted(needed)}')
  for field in needed:
    _check(_is_int(t[field]) and t[field] >= 1, f'task.{field}',
           f'must be a positive integer, got {t[field]!r}')
  if t.name == 'parity':
    _check(t.k <= t.n, 'task.k', f'k={t.k} must not exceed n={t.n}')


def _check_positive_ints(node, fields, prefix):
  for field in fields:
    _check(field in node, f'{prefix}.{field}', 'missing')
    _check(_is_int(node[field]) and node[field] >= 1, f'{prefix}.{field}',
           f'must be an integer >= 1, got {node[field]!r}')


def _check_model_kind_and_groups(config):
  _check(isinstance(config.get('model'), ml_collections.ConfigDict) and 'kind' in config.model, 'model.kind', 'missing')
  _check_choice(config.model.kind, MODEL_FIELDS, 'model.kind')
  rules = config.model.get('layer_groups', ())
  _check(isinstance(rules, (tuple, list)), 'model.layer_groups', f'must be a tuple of (regex, group) pairs, got {rules!r}')
  for rule in rules:
    _check(isinstance(rule, (tuple, list)) and len(rule) == 2 and all(isinstance(r, str) for r in rule),
           'model.layer_groups', f'each rule must be a (layer regex, group name) pair, got {rule!r}')


def _check_model(config):
  m = config.model
  _check_choice(m.kind, ('mlp', 'transformer', 'quadratic_neuron'), 'model.kind')
  if m.kind == 'transformer':
    _check_positive_ints(m, ('layers', 'heads', 'dim', 'mlp_ratio'), 'model')
    _check(m.dim % m.heads == 0, 'model.heads', f'must divide model.dim={m.dim}, got {m.heads}')
    _check_choice(m.readout, ('mean', 'last'), 'model.readout')
    for flag in ('causal', 'qk_norm'):
      _check(isinstance(m[flag], bool), f'model.{flag}', f'must be True or False, got {m[flag]!r}')
    _check_choice(m.init, models.INIT_SCHEMES, 'model.init')
    _check(m.parameterization == 'standard', 'model.parameterization', 'muP is defined here for MLPs only')
    _check_groups(config)
    return
  if config.task.name in ('modadd', 'icl'):
    raise ConfigError('model.kind', f'task {config.task.name!r} is a sequence task: use model.kind="transformer"')
  if m.kind == 'quadratic_neuron':
    _check(config.task.name == 'parity', 'model.kind', 'the quadratic neuron is defined on parity inputs')
    _check(config.data.mode == 'minibatch' and not hparams.is_multi_phase(config), 'model.kind',
           'the quadratic neuron runs its own two phases: use data.mode=minibatch and hp.dataset_size')
    _check(_is_int(m.width) and m.width >= 1, 'model.width', f'must be an integer >= 1, got {m.width!r}')
    return
  _check_choice(m.parameterization, parameterization.PARAMETERIZATIONS, 'model.parameterization')
  _check(_is_int(m.hidden_layers) and m.hidden_layers >= 1, 'model.hidden_layers',
         f'must be an integer >= 1, got {m.hidden_layers!r}')
  _check(_is_int(m.width) and m.width >= 1, 'model.width', f'must be an integer >= 1, got {m.width!r}')
  _check_choice(m.activation, models.ACTIVATIONS, 'model.activation')
  _check_choice(m.init, models.INIT_SCHEMES, 'model.init')
  _check_groups(config)


def _check_groups(config):
  for rule in config.model.layer_groups:
    _check(len(rule) == 2 and all(isinstance(r, str) for r in rule), 'model.layer_groups',
           f'each rule must be a (layer regex, group name) pair, got {rule!r}')
  groups = hparams.layer_group_names(config)
  for group in groups:
    for prefix in ('init_scale_', 'lr_mult_'):
      _check(prefix + group in config.hp, 'model.layer_groups',
             f'group {group!r} needs config.hp.{prefix}{group}')
  for group in config.data.online_groups:
    _check(group in groups, 'data.online_groups', f'{group!r} is not a layer group; groups: {groups}')


def _check_training(config):
  _check_choice(config.loss, losses.LOSSES, 'loss')
  kind = tasks.make_task(config.task).label_kind
  suited = losses.LOSSES_FOR_LABELS[kind]
  _check(config.loss in suited, 'loss',
         f'task {config.task.name!r} has {kind} labels, which need one of {suited}, got {config.loss!r}')
  _check_choice(config.optim.kind, optim.OPTIMIZERS, 'optim.kind')
  d = config.data
  _check_choice(d.mode, ('minibatch', 'full_batch'), 'data.mode')
  _check_choice(d.sampling, ('with_replacement', 'without_replacement'), 'data.sampling')
  _check_choice(d.phase_unit, ('steps', 'epochs'), 'data.phase_unit')
  _check_choice(d.schedule, ('fixed', 'auto'), 'data.schedule')
  if d.schedule == 'auto':
    _check(d.mode == 'minibatch' and hparams.is_multi_phase(config), 'data.schedule',
           "'auto' moves through hp.phase_sizes during mini-batch training; set them (and data.mode=minibatch)")
    _check(config.task.name == 'parity', 'data.schedule', "'auto' advances on train accuracy, which needs +-1 labels")
  if config.task.name in data_lib.DEBIAS:
    _check_choice(d.debias, data_lib.DEBIAS[config.task.name], 'data.debias')
  for field in ('auto_check_every', 'auto_probe_size'):
    _check(_is_int(d[field]) and d[field] >= 1, f'data.{field}', f'must be a positive integer, got {d[field]!r}')
  for field in ('eval_train_size', 'eval_batch_size'):
    _check(_is_int(d[field]) and d[field] >= 1, f'data.{field}', f'must be a positive integer, got {d[field]!r}')
  _check(_is_int(d.full_batch_microbatch) and d.full_batch_microbatch >= 0, 'data.full_batch_microbatch',
         f'must be a non-negative integer (0: {train.AUTO_MICROBATCH}), got {d.full_batch_microbatch!r}')
  tr = config.train
  for field in ('batch_size', 'steps', 'eval_every'):
    _check(_is_int(tr[field]) and tr[field] >= 1, f'train.{field}',
           f'must be a positive integer, got {tr[field]!r}')
  _check(tr.steps % tr.eval_every == 0, 'train.eval_every',
         f'must divide train.steps={tr.steps}, got {tr.eval_every}')
  _check_choice(tr.matmul_precision, MATMUL_PRECISIONS, 'train.matmul_precision')


def _check_engine(config):
  e = config.engine
  _check(_is_int(e.chunk_size) and e.chunk_size >= 0, 'engine.chunk_size',
         f'must be a non-negative integer (0: fit the memory budget), got {e.chunk_size!r}')
  _check(_is_int(e.max_chunk_size) and e.max_chunk_size >= 1, 'engine.max_chunk_size',
         f'must be a positive integer, got {e.max_chunk_size!r}')
  _check(_is_number(e.memory_fraction) and 0 <= e.memory_fraction <= 1, 'engine.memory_fraction',
         f'must be in [0, 1] (0: our default), got {e.memory_fraction!r}')
  _check_choice(e.memory_model, ('auto', 'formula', 'measured'), 'engine.memory_model')
  for field in ('memory_budget', 'cpu_cache_bytes'):
    if e[field] or field == 'cpu_cache_bytes':
      try:
        memory.parse_bytes(e[field])
      except ValueError:
        raise ConfigError(f'engine.{field}', f"must be a size like '60GB' or '512MiB', got {e[field]!r}") from None


def _check_hp_value(config, key, value, where):
  """Checks one value of an hp key (a default or a swept value)."""
  population = tasks.make_task(config.task).population_size
  if key in ('seed', 'data_seed'):
    _check(_is_int(value) and 0 <= value < 2**32, where, f'must be an integer in [0, 2**32), got {value!r}')
  elif key in ('dataset_size',):
    _check_size(config, value, where, population)
  elif key == 'phase_sizes':
    _check(isinstance(value, (tuple, list)), where, f'must be a tuple of sizes, got {value!r}')
    for i, s in enumerate(value):
      _check_size(config, s, f'{where}[{i}]', population)
    numeric = [math.inf if hparams.size_value(s) == 0 else s for s in value]
    _check(all(a <= b for a, b in zip(numeric, numeric[1:])), where,
           f'phase sizes must not decrease (nested subsets, online last), got {tuple(value)}')
  elif key == 'phase_lengths':
    _check(isinstance(value, (tuple, list)) and all(_is_int(v) and v >= 0 for v in value), where,
           f'must be a tuple of non-negative integers, got {value!r}')
  elif key in ('random_label_phases', 'online_bias_samples'):
    _check(_is_int(value) and value >= 0, where, f'must be a non-negative integer, got {value!r}')
    if key == 'online_bias_samples':
      _check(value <= population, where, f'{value} exceeds the population size {population}')
  else:
    _check(_is_number(value) and math.isfinite(value), where, f'must be a finite number, got {value!r}')
    if key == 'lr':
      _check(value > 0, where, f'must be positive, got {value!r}')
    if key.startswith(('init_scale_', 'lr_mult_')) or key in ('weight_decay', 'momentum'):
      _check(value >= 0, where, f'must be non-negative, got {value!r}')
    if key in ('b1', 'b2', 'momentum'):
      _check(value < 1, where, f'must be below 1, got {value!r}')
    if key in ('alpha', 'a_star', 'auto_max_epochs'):
      _check(value > 0, where, f'must be positive, got {value!r}')
    if key in ('pool_fraction', 'auto_train_acc', 'a_star'):
      _check(0 <= value <= 1, where, f'must be in [0, 1], got {value!r}')


def _check_size(config, value, where, population):
  if value == ONLINE:
    value = 0
  _check(_is_int(value) and value >= 0, where,
         f"must be a dataset size (positive integer) or 'online' (0), got {value!r}")
  _check(value <= population, where, f'{value} exceeds the population size {population}')
  if value == 0:
    _check(config.data.mode != 'full_batch', where, 'full-batch GD needs a finite dataset, not online')
    return
  group = data_lib.debias_group_size(tasks.make_task(config.task), config.data.debias)
  _check(value % group == 0, where,
         f'data.debias={config.data.debias!r} is exact for sizes that are multiples of {group}, got {value}')
  if config.data.mode == 'minibatch' and config.data.sampling == 'without_replacement':
    _check(config.train.batch_size <= value, where,
           f'batch_size={config.train.batch_size} is larger than the dataset ({value}) '
           'sampled without replacement')


def _check_hp(config):
  used = hparams.used_hp_keys(config)
  for key in used:
    _check(key in config.hp, f'hp.{key}', 'missing')
    if key in config.sweep:
      for i, value in enumerate(config.sweep[key]):
        _check_hp_value(config, key, value, f'sweep.{key}[{i}]')
    else:
      _check_hp_value(config, key, config.hp[key], f'hp.{key}')
  if config.task.name == 'sim' and config.data.debias != 'none':
    finite = {s for s in hparams.all_dataset_sizes(config) if s}
    _check(len(finite) == 1, 'data.debias',
           f'SIM debiasing is exact for the whole pool only: use one finite dataset size, got {sorted(finite)}')
  if hparams.is_multi_phase(config):
    phases = [len(v) for v in hparams.axis_values(config, 'phase_sizes')]
    _check(len(set(phases)) == 1, 'sweep.phase_sizes',
           f'every value must have the same number of phases (it sets shapes), got {phases}')
    for lengths in ([] if hparams.is_auto_schedule(config) else hparams.axis_values(config, 'phase_lengths')):
      _check(len(lengths) == phases[0] - 1, 'hp.phase_lengths',
             f'needs one length per phase but the last ({phases[0] - 1}), got {tuple(lengths)}')


def _check_sweep(config):
  used = set(hparams.used_hp_keys(config))
  for axis, values in sweep_axes(config):
    where = f'sweep.{axis}'
    _check(isinstance(config.sweep[axis], (tuple, list)) and len(values) > 0, where,
           f'must be a non-empty tuple of values, got {config.sweep[axis]!r}')
    if axis in config.hp:
      _check(axis in used, where,
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
    _check(parts[0] not in ('sweep', 'engine', 'hp'), where, 'this section cannot be swept')
    for i, value in enumerate(values):
      _check(type(value) is type(node) or (_is_number(value) and _is_number(node)), f'{where}[{i}]',
             f'must be of type {type(node).__name__} like config.{".".join(parts)}, got {value!r}')


FREE_SECTIONS = ('plot', 'claims', 'notes')  # read by experiment scripts and the report, not the engine
MODEL_FIELDS = {
    'mlp': ('kind', 'hidden_layers', 'width', 'activation', 'init', 'parameterization', 'layer_groups'),
    'transformer': ('kind', 'layers', 'heads', 'dim', 'mlp_ratio', 'causal', 'qk_norm', 'readout', 'init',
                    'parameterization', 'layer_groups'),
}
MODEL_FIELDS['quadratic_neuron'] = MODEL_FIELDS['mlp']


def _check_no_unknown(node, known, prefix):
  for key in node.keys():
    if key not in known:
      close = difflib.get_close_matches(key, known, n=1)
      hint = f'; did you mean {prefix}{close[0]}?' if close else f'; known: {sorted(known)}'
      raise ConfigError(f'{prefix}{key}', f'unknown key{hint}')


def _check_known_keys(config):
  """Every key is one the engine reads (a typo on the command line is not silently a new key)."""
  base = base_config()
  _check_no_unknown(config, list(base.keys()) + list(FREE_SECTIONS), '')
  for section in ('optim', 'data', 'train', 'engine'):
    _check_no_unknown(config[section], list(base[section].keys()), f'{section}.')
  if config.model.kind in MODEL_FIELDS:
    _check_no_unknown(config.model, MODEL_FIELDS[config.model.kind], 'model.')
  known_hp = list(base.hp.keys()) + [f'{prefix}{group}' for group in hparams.layer_group_names(config)
                                     for prefix in ('init_scale_', 'lr_mult_')]
  _check_no_unknown(config.hp, known_hp, 'hp.')


def validate(config):
  """Raises ConfigError naming the first bad key; checks every static point of the sweep."""
  _check_model_kind_and_groups(config)
  _check_known_keys(config)
  _check_task(config)
  _check_model(config)
  _check_training(config)
  _check_sweep(config)
  _check_engine(config)
  for point in static_points(config):
    concrete = concrete_config(config, point)
    _check_task(concrete)
    _check_model(concrete)
    _check_training(concrete)
    _check_hp(concrete)
  return config
