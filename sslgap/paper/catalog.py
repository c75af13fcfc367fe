"""Every experiment of the paper that sslgap runs: which script, which config file, which preset
at each scale. Each config file in sweeps/ declares its own (EXPERIMENTS); this module collects
them, and the report, the paper-scale rehearsal and the golden tests all read that list.

  small    a 2-core CPU, a minute or two
  medium   a 2-core CPU, up to about an hour: settles a disagreement seen at the small scale
  paper    the paper's scale, for a GPU
"""

import dataclasses
import os

from sslgap.setup import config as config_lib
from sslgap.setup import plugins
from sslgap.errors import ConfigFileError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # sslgap/paper/ -> the repository
SCALES = ('small', 'medium', 'paper')


@dataclasses.dataclass(frozen=True)
class Experiment:
  id: str
  figure: str  # as the paper numbers it
  script: str  # experiments/<script>.py
  config: str  # sweeps/<config>.py
  presets: tuple  # ((scale, preset), ...)

  def preset(self, scale):
    return dict(self.presets).get(scale)

  @property
  def config_path(self):
    """The config file (relative to the repository root); `config` may be a path of its own."""
    return self.config if self.config.endswith('.py') else os.path.join('sweeps', f'{self.config}.py')

  def has(self, scale):
    return scale in dict(self.presets)

  def command(self, scale, out=None):
    """The command a user types to run it (outputs in results/<config.name> unless out)."""
    preset = self.preset(scale)
    spec = self.config_path + (f':{preset}' if preset else '')
    return f'python experiments/{self.script}.py --config={spec}' + (f' --out={out}' if out else '')


def declared(config, module):
  """The Experiments a config file's EXPERIMENTS declares (dicts: id, figure, optional script,
  and a preset per scale); a malformed declaration is a ConfigFileError naming the file."""
  out = []
  declared = getattr(module, 'EXPERIMENTS', ())
  where = getattr(module, '__file__', config)
  if not isinstance(declared, (tuple, list)):
    raise ConfigFileError(f'{where}: EXPERIMENTS must be a tuple of dicts, got {type(declared).__name__}')
  for d in declared:
    unknown = set(d) - {'id', 'figure', 'script', *SCALES} if isinstance(d, dict) else set()
    if (not isinstance(d, dict) or unknown or not isinstance(d.get('id'), str)
        or not any(isinstance(d.get(t), str) for t in SCALES)):
      raise ConfigFileError(f'{where}: EXPERIMENTS entry {d!r} needs an id and a preset (a string) at a scale '
                            f'(of {", ".join(SCALES)})' + (f'; unknown keys {sorted(unknown)}' if unknown else ''))
    presets = tuple((t, d[t]) for t in ('small', 'paper', 'medium') if t in d)
    out.append(Experiment(d['id'], d.get('figure', ''), d.get('script', 'learning_curves'), config, presets))
  return out


def collect(folder=os.path.join(ROOT, 'sweeps')):
  """Every experiment the config files of a folder declare, in the order of their RANK (a number each file
  may declare: no list elsewhere to edit when a file is added), files without one last, by name."""
  names = sorted(n[:-3] for n in os.listdir(folder) if n.endswith('.py') and not n.startswith('_'))
  modules = {n: plugins.import_file(os.path.join(folder, f'{n}.py'), 'sslgap_config', ConfigFileError, again=True)
             for n in names}
  rank = lambda n: (0, getattr(modules[n], 'RANK')) if isinstance(getattr(modules[n], 'RANK', None), (int, float)) \
      else (1, 0)
  found = [e for n in sorted(names, key=lambda n: (rank(n), n)) for e in declared(n, modules[n])]
  ids = [e.id for e in found]
  repeated = sorted({i for i in ids if ids.count(i) > 1})
  if repeated:
    raise ConfigFileError(f'{folder}: experiment ids declared twice: {", ".join(repeated)}')
  return found


_COLLECTED = []


def __getattr__(name):
  """EXPERIMENTS and BY_ID, collected on first use: a broken config file is then one ConfigFileError
  where a command reads the catalog, not a traceback when anything imports this module."""
  if name not in ('EXPERIMENTS', 'BY_ID'):
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
  if not _COLLECTED:
    _COLLECTED.append(collect())
  return _COLLECTED[0] if name == 'EXPERIMENTS' else {e.id: e for e in _COLLECTED[0]}


def find(ids):
  """The experiments named by ids (all if empty); ValueError names an unknown one."""
  by_id = __getattr__('BY_ID')
  unknown = [i for i in ids if i not in by_id]
  if unknown:
    raise ValueError(f'unknown experiment(s) {unknown}; known: {", ".join(by_id)}')
  return [by_id[i] for i in ids] if ids else list(__getattr__('EXPERIMENTS'))


def in_order(ids):
  """ids in the catalog's order, any it does not know after them in the order given."""
  known = {e.id: i for i, e in enumerate(__getattr__('EXPERIMENTS'))}
  given = {i: n for n, i in reversed(list(enumerate(ids)))}
  return sorted(ids, key=lambda i: (known.get(i, len(known)), given[i]))


def load_config(experiment, scale):
  """The config of an experiment at a scale (config files are code: this runs get_config)."""
  preset = experiment.preset(scale)
  return config_lib.load(os.path.join(ROOT, experiment.config_path) + (f':{preset}' if preset else ''))


def for_scale(scale, ids=()):
  """The experiments (of ids, if given) that have a preset at this scale."""
  return [e for e in find(ids) if e.has(scale)]
