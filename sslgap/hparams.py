"""Which hyper-parameters are traced, and how config values become the run's traced arrays.

`config.hp` holds every value that may be vmapped. Most keys pass to the run as scalars;
the data schedule is turned into two vectors (`phase_sizes`, `phase_lengths`) so that a
single N-subset and a multi-phase schedule are one code path. In full-batch mode the
dataset sizes set shapes, so they are static and the sweep loops over them outside.
"""

import numpy as np

from sslgap import data as data_lib
from sslgap import optim

INT_HP = ('random_label_phases', 'online_bias_samples')
# hp keys the engine handles itself rather than passing to the run.
ENGINE_HP = ('data_seed',)
SCHEDULE_HP = ('dataset_size', 'phase_sizes', 'phase_lengths')


def layer_group_names(config):
  names = []
  for _, group in config.model.layer_groups:
    if group not in names:
      names.append(group)
  return names


def is_multi_phase(config):
  return len(config.hp.phase_sizes) > 0


def static_hp_keys(config):
  """hp keys that set shapes under this config, so each value compiles once."""
  return SCHEDULE_HP if config.data.mode == 'full_batch' else ()


def is_auto_schedule(config):
  return config.data.schedule == 'auto'


def used_hp_keys(config):
  """The hp keys this config reads, in a fixed order."""
  if config.model.kind == 'quadratic_neuron':
    return ['seed', 'data_seed', 'lr', 'a_star', 'random_label_phases', 'dataset_size']
  keys = ['seed', 'data_seed', 'lr', *optim.OPTIMIZER_HP[config.optim.kind]]
  groups = layer_group_names(config)
  for group in groups:
    keys += [f'init_scale_{group}', f'lr_mult_{group}']
  if {'first', 'rest'} <= set(groups):
    keys.append('alpha')
  keys.append('random_label_phases')
  if config.data.mode == 'minibatch':
    keys.append('pool_fraction')
    if config.task.name == 'parity':
      keys.append('online_bias_samples')
  if is_auto_schedule(config):
    keys += ['phase_sizes', 'auto_train_acc', 'auto_max_epochs']
  else:
    keys += ['phase_sizes', 'phase_lengths'] if is_multi_phase(config) else ['dataset_size']
  return keys


def size_value(value):
  """A dataset size as an int; 'online' (or 0) means fresh samples every step."""
  return data_lib.ONLINE if value == 'online' else int(value)


def _schedule_sources(config):
  """How the run's (phase_sizes [P], phase_lengths [P-1]) come from config hp keys."""
  as_sizes = lambda v: np.asarray([size_value(s) for s in v], np.int32)
  if is_auto_schedule(config):
    return {'phase_sizes': ('phase_sizes', as_sizes)}
  if is_multi_phase(config):
    return {'phase_sizes': ('phase_sizes', as_sizes),
            'phase_lengths': ('phase_lengths', lambda v: np.asarray(v, np.int32))}
  return {'phase_sizes': ('dataset_size', lambda v: as_sizes([v])),
          'phase_lengths': (None, lambda _: np.zeros((0,), np.int32))}


def _convert(hp_values, sources):
  return {k: convert(hp_values[src] if src else None) for k, (src, convert) in sources.items()}


def static_phases(config):
  """Full-batch phases: static (sizes, lengths) tuples; one step per epoch."""
  arrays = _convert(config.hp, _schedule_sources(config))
  return tuple(arrays['phase_sizes'].tolist()), tuple(arrays['phase_lengths'].tolist())


def axis_values(config, key):
  """The values an hp key takes in this sweep: its swept values, else its default."""
  if key in config.sweep:
    return list(config.sweep[key])
  return [config.hp[key]]


def all_dataset_sizes(config):
  """Every dataset size the sweep may use (0 = online)."""
  if is_multi_phase(config):
    return [size_value(s) for value in axis_values(config, 'phase_sizes') for s in value]
  return [size_value(s) for s in axis_values(config, 'dataset_size')]


def _values(config, key):
  return axis_values(config, key) if key in used_hp_keys(config) else [config.hp[key]]


def pool_size(config):
  """Examples the pool must hold: the largest finite dataset, and the biased-online samples."""
  sizes = [s for s in all_dataset_sizes(config) if s != data_lib.ONLINE]
  if 'online_bias_samples' in used_hp_keys(config):
    sizes += [int(m) for m in _values(config, 'online_bias_samples')]
  return max(sizes, default=0)


def uses_online(config):
  return data_lib.ONLINE in all_dataset_sizes(config)


def uses_fresh_samples(config):
  """Whether some step draws fresh examples: an online phase, or a two-set batch (pool_fraction < 1)."""
  fractions = _values(config, 'pool_fraction') if 'pool_fraction' in used_hp_keys(config) else [1.0]
  return uses_online(config) or pool_size(config) == 0 or any(f < 1 for f in fractions)


def uses_random_labels(config):
  return any(int(v) > 0 for v in _values(config, 'random_label_phases'))


def uses_online_bias(config):
  return 'online_bias_samples' in used_hp_keys(config) and any(
      int(m) > 0 for m in _values(config, 'online_bias_samples'))


def run_hp_sources(config):
  """{run hp key: (config hp key or None, converter)}: how each traced input of the run is made.

  A converter maps one config value to the numpy value the run receives; a key with no
  config source is the same constant for every run.
  """
  sources = {'seed': ('seed', np.uint32)}
  for key in used_hp_keys(config):
    if key not in ENGINE_HP + SCHEDULE_HP + ('seed',):
      sources[key] = (key, np.int32 if key in INT_HP else np.float32)
  if config.data.mode != 'full_batch':
    sources.update(_schedule_sources(config))
  return sources


def run_hp(config, overrides=None):
  """The run's hp dict for one point: config.hp with `overrides` ({hp key: value}) applied."""
  return _convert(dict(config.hp.items(), **(overrides or {})), run_hp_sources(config))
