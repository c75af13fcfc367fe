"""Every traced hyper-parameter, declared once: its kind, default, valid range and when it is used.

The declarations below are the whole story of what a sweep may vmap. From them follow the
defaults of `config.hp` (sslgap.config.base_config), the checks of every value (a default or a
swept one), which keys a config uses (sweeping an unused one is an error), and the conversion of
config values into the run's traced inputs. Adding a traced hyper-parameter is one declaration
here plus its use in the run.

Config keys are flat (`lr`, `init_scale_first`); the run receives a pytree where per-group
multipliers are mappings (`hp['init_scale'] == {'first': ..., 'rest': ...}`) and the data
schedule is always `phase_sizes` [P] with `phase_lengths` [P - 1] (a single `dataset_size` is a
one-phase schedule). Dataset sizes are ints where 0 means online; 'online' is accepted in
configs and converted here, at the edge (size_value). In full-batch mode the dataset sizes set
array shapes, so they are static: the sweep loops over them outside the compiled run.
"""

import dataclasses
import math
from typing import Callable

import numpy as np

from sslgap.errors import is_int, is_number

ONLINE = 0  # the dataset size that means "sample fresh every step"
ONLINE_NAME = 'online'  # how configs (and figure labels) write it


@dataclasses.dataclass(frozen=True)
class Facts:
  """The static facts that decide which hyper-parameters a config uses (sslgap.spec.facts_of
  derives them from the config and the plug-ins' registries)."""

  optimizer_hparams: tuple  # what the optimiser reads (sslgap.optim)
  groups: tuple
  full_batch: bool
  multi_phase: bool
  auto: bool
  biased_sampling: bool  # the task can sample from coordinate-biased distributions
  model_hparams: tuple = None  # a model that trains itself reads exactly these


def always(_):
  return True


def never(_):
  return False


def by_optimizer(name):
  """Used when the optimiser declares it reads `name` (sslgap.optim)."""
  return lambda f: name in f.optimizer_hparams


@dataclasses.dataclass(frozen=True)
class HParam:
  name: str
  kind: str  # 'seed', 'float', 'int', 'size', 'sizes' or 'lengths'
  default: object
  low: float = None  # valid range; open or closed at each end
  high: object = None  # a number, or 'population' (the task's population size)
  low_open: bool = False
  high_open: bool = False
  used: Callable = always  # (Facts) -> bool
  per_group: bool = False  # one value per layer group: config keys <name>_<group>
  engine: bool = False  # read by the engine itself (the data seed), not passed to the run
  schedule: bool = False  # a dataset size or phase length: static in full-batch mode
  doc: str = ''


DECLARED = [
    HParam('seed', 'seed', 0, doc='initialisation, batch order and probes of a run'),
    HParam('data_seed', 'seed', 0, engine=True, doc='the pool, the hidden target and the test set'),
    HParam('lr', 'float', 0.1, low=0, low_open=True, used=by_optimizer('lr'), doc='learning rate'),
    HParam('momentum', 'float', 0.9, low=0, high=1, high_open=True, used=by_optimizer('momentum')),
    HParam('b1', 'float', 0.9, low=0, high=1, high_open=True, used=by_optimizer('b1')),
    HParam('b2', 'float', 0.999, low=0, high=1, high_open=True, used=by_optimizer('b2')),
    HParam('weight_decay', 'float', 0.0, low=0, used=by_optimizer('weight_decay')),
    HParam('init_scale', 'float', 1.0, low=0, per_group=True, doc='multiplies the group\'s initial weights and biases'),
    HParam('lr_mult', 'float', 1.0, low=0, per_group=True, doc='multiplies the group\'s updates'),
    HParam('alpha', 'float', 1.0, low=0, low_open=True, used=lambda f: {'first', 'rest'} <= set(f.groups),
           doc='alpha-scaling: the first group\'s init / alpha, every other group\'s x alpha'),
    HParam('random_label_phases', 'int', 0, low=0, doc='phases trained on random labels'),
    HParam('pool_fraction', 'float', 1.0, low=0, high=1, used=lambda f: not f.full_batch,
           doc='the share of a batch drawn from the subset; the rest is fresh (two-set training)'),
    HParam('online_bias_samples', 'int', 0, low=0, high='population',
           used=lambda f: not f.full_batch and f.biased_sampling,
           doc='online inputs from the coordinate biases of this many pool examples (0: unbiased)'),
    HParam('phase_sizes', 'sizes', (), schedule=True, used=lambda f: f.multi_phase or f.auto),
    HParam('phase_lengths', 'lengths', (), schedule=True, used=lambda f: f.multi_phase and not f.auto),
    HParam('auto_train_acc', 'float', 0.75, low=0, high=1, used=lambda f: f.auto),
    HParam('auto_max_epochs', 'float', 50.0, low=0, low_open=True, used=lambda f: f.auto),
    HParam('a_star', 'float', 0.5, low=0, high=1, low_open=True, used=never, doc='the theory model\'s |a| target'),
    HParam('dataset_size', 'size', ONLINE, schedule=True, used=lambda f: not f.multi_phase and not f.auto,
           doc="a prefix of the data seed's pool, or 'online' (0)"),
]

BY_NAME = {h.name: h for h in DECLARED}
PLUGGED = []  # the names register() added (plug-ins' own)


def register(hparam):
  """Adds a traced hyper-parameter declared outside this file (an optimiser's own, from its plug-in file:
  sslgap.optim.Optimizer(declares=...)); the same declaration again (its file imported twice) is one."""
  from sslgap.errors import PluginError  # noqa: PLC0415
  existing = BY_NAME.get(hparam.name)
  if existing is not None:
    if dataclasses.replace(existing, used=hparam.used) == hparam:
      return existing
    raise PluginError(f'hyper-parameter {hparam.name!r} is already declared; give yours another name')
  DECLARED.append(hparam)
  BY_NAME[hparam.name] = hparam
  PLUGGED.append(hparam.name)
  return hparam
SCHEDULE_KEYS = tuple(h.name for h in DECLARED if h.schedule)  # static in full-batch mode: they set shapes
# Groups every base config carries keys for (the MLP's and the Transformer's default groups).
BASE_GROUPS = ('first', 'rest', 'qk')


def config_key(hparam, group=None):
  return f'{hparam.name}_{group}' if hparam.per_group else hparam.name


def config_defaults(groups=BASE_GROUPS):
  """{config key: default} of every declared hyper-parameter (config.hp of a base config)."""
  out = {}
  for h in DECLARED:
    for group in (groups if h.per_group else (None,)):
      out[config_key(h, group)] = h.default
  return out


def size_value(value):
  """A dataset size as an int; 'online' (or 0) means fresh samples every step."""
  return ONLINE if value == ONLINE_NAME else int(value)


# --- which keys a config uses ------------------------------------------------------------------

def layer_group_names(config):
  return list(dict.fromkeys(group for _, group in config.model.layer_groups))  # in rule order


def is_multi_phase(config):
  return len(config.hp.phase_sizes) > 0


def used_hparams(f):
  """[(HParam, group or None)] a config with these Facts reads, in declaration order."""
  out = []
  for h in DECLARED:
    if f.model_hparams is not None:
      if h.name in f.model_hparams:
        out.append((h, None))
      continue
    if h.used(f):
      out += [(h, g) for g in f.groups] if h.per_group else [(h, None)]
  return out


def used_hp_keys(f):
  """The config hp keys a config with these Facts reads, in a fixed order."""
  return [config_key(h, g) for h, g in used_hparams(f)]


def axis_values(config, key):
  """The values an hp key takes in this sweep: its swept values, else its default."""
  if key in config.sweep:
    return list(config.sweep[key])
  return [config.hp[key]]


def values_used(config, key, used_keys):
  """Every value of an hp key the sweep may run with (its default if the config does not use it)."""
  return axis_values(config, key) if key in used_keys else [config.hp[key]]


def all_dataset_sizes(config):
  """Every dataset size the sweep may use (0 = online)."""
  if is_multi_phase(config):
    return [size_value(s) for value in axis_values(config, 'phase_sizes') for s in value]
  return [size_value(s) for s in axis_values(config, 'dataset_size')]


# --- the run's traced inputs ---------------------------------------------------------------------

CONVERTERS = {
    'seed': np.uint32,
    'float': np.float32,
    'int': np.int32,
    'sizes': lambda v: np.asarray([size_value(s) for s in v], np.int32),
    'lengths': lambda v: np.asarray(v, np.int32),
}


def run_hp_sources(f):
  """{path in the run's hp pytree: (config hp key or None, converter)}: how each traced input of a
  run is made. A converter maps one config value to the numpy value the run receives; a path with
  no config key is the same constant for every run."""
  sources = {}
  for h, group in used_hparams(f):
    if h.engine or (f.full_batch and h.schedule):
      continue
    key = config_key(h, group)
    if h.name == 'dataset_size':  # a one-phase schedule
      sources[('phase_sizes',)] = (key, lambda v: CONVERTERS['sizes']([v]))
      sources[('phase_lengths',)] = (None, lambda _: np.zeros((0,), np.int32))
    else:
      sources[(h.name, group) if h.per_group else (h.name,)] = (key, CONVERTERS[h.kind])
  return sources


def nest(flat):
  """{path tuple: value} -> the nested dict the run receives."""
  out = {}
  for path, value in flat.items():
    node = out
    for part in path[:-1]:
      node = node.setdefault(part, {})
    node[path[-1]] = value
  return out


def run_hp(sources, values):
  """The run's hp pytree from run_hp_sources and {config hp key: value}."""
  return nest({path: convert(values[key] if key else None) for path, (key, convert) in sources.items()})


def static_phases(config):
  """Full-batch phases: static (sizes, lengths) tuples; one step per epoch."""
  if is_multi_phase(config):
    return (tuple(size_value(s) for s in config.hp.phase_sizes), tuple(int(v) for v in config.hp.phase_lengths))
  return (size_value(config.hp.dataset_size),), ()


# --- checks ---------------------------------------------------------------------------------------

def check_value(hparam, value, where, population):
  """A message saying what is wrong with one value of a declared hyper-parameter, or None.

  Dataset sizes are checked against the task and data plan by sslgap.config (check_size)."""
  kind = hparam.kind
  if kind == 'seed':
    if not (is_int(value) and 0 <= value < 2**32):
      return f'must be an integer in [0, 2**32), got {value!r}'
    return None
  if kind == 'lengths':
    if not (isinstance(value, (tuple, list)) and all(is_int(v) and v >= 0 for v in value)):
      return f'must be a tuple of non-negative integers, got {value!r}'
    return None
  if kind in ('size', 'sizes'):
    return None
  if kind == 'int' and not is_int(value):
    return f'must be a non-negative integer, got {value!r}' if hparam.low == 0 else f'must be an integer, got {value!r}'
  if not (is_number(value) and math.isfinite(value)):
    return f'must be a finite number, got {value!r}'
  high = population if hparam.high == 'population' else hparam.high
  below = hparam.low is not None and (value <= hparam.low if hparam.low_open else value < hparam.low)
  above = high is not None and (value >= high if hparam.high_open else value > high)
  if hparam.high == 'population' and above:
    return f'{value} exceeds the population size {population}'
  if below or above:
    if hparam.low == 0 and high is None:
      return f'must be {"positive" if hparam.low_open else "non-negative"}, got {value!r}'
    left, right = '(' if hparam.low_open else '[', ')' if hparam.high_open else ']'
    return f'must be in {left}{hparam.low}, {high}{right}, got {value!r}'
  return None
