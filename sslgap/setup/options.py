"""Every static option of the `data`, `train` and `engine` sections, declared once: its default, its
kind (which says how it is checked) and one line of help.

From the declarations follow the sections of sslgap.config.base_config, the check of every value
(a default, an override or a swept one), the unknown-key error and its "did you mean", and the
run spec's sections (spec.data, spec.train), so a new static option is one declaration here plus
its use (spec.train.<name> in the run). Rules that tie an option to others (eval_every divides
steps; the debias kinds come from the task) stay in sslgap.config, which knows the whole config.
Traced hyper-parameters are declared apart, in sslgap.hparams: changing an option here compiles
anew, changing those never does.
"""

import dataclasses
import math

from sslgap.base import sizes
from sslgap.science import results
from sslgap.errors import check, check_choice, is_int, is_number

MATMUL_PRECISIONS = ('highest', 'tensorfloat32', 'default')
AUTO_MICROBATCH = '1024 examples on a CPU (cache-sized), 65536 on an accelerator'


@dataclasses.dataclass(frozen=True)
class Option:
  section: str  # 'data', 'train' or 'engine'
  name: str
  default: object
  kind: str  # 'choice', 'int', 'fraction', 'bytes', 'names', 'bool' or 'positive' (a number > 0)
  help: str
  choices: tuple = ()  # for 'choice'
  low: int = 1  # for 'int': 1 (positive) or 0 (non-negative, `zero` says what 0 means)
  zero: str = ''  # what 0 (or an empty value) means, for the message
  optional: bool = False  # for 'bytes': '' means "not set"

  @property
  def key(self):
    return f'{self.section}.{self.name}'


DECLARED = (
    Option('data', 'mode', 'minibatch', 'choice', 'mini-batch SGD, or GD on the whole current dataset',
           choices=('minibatch', 'full_batch')),
    Option('data', 'sampling', 'with_replacement', 'choice', 'how a mini-batch is drawn from its subset',
           choices=('with_replacement', 'without_replacement')),
    Option('data', 'phase_unit', 'steps', 'choice', 'what hp.phase_lengths count', choices=('steps', 'epochs')),
    Option('data', 'schedule', 'fixed', 'choice', "'auto' moves through the phases on train accuracy (Fig 19)",
           choices=('fixed', 'auto')),
    Option('data', 'auto_check_every', 50, 'int', 'steps between the auto schedule\'s checks'),
    Option('data', 'auto_probe_size', 1024, 'int', 'examples of the subset the auto schedule\'s check reads'),
    Option('data', 'debias', 'none', 'choice', 'a transformation of the pool that removes its biases (the task\'s kinds)'),
    Option('data', 'online_groups', (), 'names', 'layer groups that learn from fresh batches, the rest from the subset'),
    Option('data', 'eval_train_size', 4096, 'int', 'examples of the training data each evaluation measures'),
    Option('data', 'eval_batch_size', 1024, 'int', 'examples per slice of an evaluation'),
    Option('data', 'full_batch_microbatch', 0, 'int', 'examples per slice of a full-batch gradient', low=0,
           zero=f'0: {AUTO_MICROBATCH}'),
    Option('train', 'batch_size', 128, 'int', 'examples per step'),
    Option('train', 'steps', 1000, 'int', 'training steps of every run'),
    Option('train', 'eval_every', 100, 'int', 'steps between evaluations (it divides train.steps)'),
    Option('train', 'matmul_precision', 'highest', 'choice', "float32 matrix products: 'highest' (float32, as PyTorch "
           "computes them), 'tensorfloat32' or 'default' (the platform's fastest; TF32 on recent NVIDIA GPUs)",
           choices=MATMUL_PRECISIONS),
    # Unrolling the step loop trades compile time for fewer loop iterations: on a GPU a while loop's control
    # costs microseconds a step, which narrow runs feel; benchmarks/gpu_check.sh measures which pays.
    Option('train', 'scan_unroll', results.UNHASHED_AT_DEFAULT['train']['scan_unroll'], 'int', 'training steps per iteration of the compiled step loop (lax.scan '
           'unroll); results may differ from 1 in the last bits'),
    Option('engine', 'chunk_size', 0, 'int', 'runs per chunk file, the unit of resume and of shards', low=0,
           zero="0: one kernel call's worth of runs"),
    Option('engine', 'call_width', 0, 'int', 'runs per kernel call', low=0, zero='0: the most that fit the memory budget'),
    Option('engine', 'max_chunk_size', 65536, 'int', 'the most runs per kernel call'),
    Option('engine', 'memory_budget', '', 'bytes', "bytes per device for a call, e.g. '60GB'", optional=True),
    Option('engine', 'memory_fraction', 0.0, 'fraction', 'of one device\'s memory for a call, when no budget is set',
           zero='0: our default'),
    Option('engine', 'cpu_cache_bytes', '6MB', 'bytes', 'a CPU device keeps its runs\' training steps within this'),
    # A segment's length bounds what a stop signal waits for (it checkpoints at the next boundary), so it
    # stays well inside Slurm's default signal delay (120 s); a segment's host round trip (a dispatch, and
    # its evaluations copied back) costs well under 1% of 30 s on a CPU or a GPU.
    Option('engine', 'segment_seconds', 30.0, 'positive', 'a chunk computes in segments of whole evaluation '
           'intervals of about this many seconds (predicted from FLOPs): the unit of checkpoints and progress'),
    Option('engine', 'segment_intervals', 0, 'int', 'evaluation intervals per segment', low=0,
           zero='0: from engine.segment_seconds'),
    Option('engine', 'checkpoint_minutes', 10.0, 'positive', 'a chunk in segments saves its state this often (and '
           'on a stop signal), so a killed process loses at most this much'),
    Option('engine', 'checkpoint_budget', '1GB', 'bytes', 'a checkpoint heavier than this is written less often: '
           "every engine.checkpoint_minutes x its weight / this budget ('' for no budget)", optional=True),
    Option('engine', 'memory_model', 'auto', 'choice', "how bytes per run are known: 'auto' (XLA's analysis on an "
           "accelerator, the formula on a CPU), 'formula' or 'measured'", choices=('auto', 'formula', 'measured')),
)
SECTIONS = ('data', 'train', 'engine')


def of_section(section):
  return [o for o in DECLARED if o.section == section]


def defaults(section):
  """{name: default} of a section (a base config's)."""
  return {o.name: o.default for o in of_section(section)}


def check_value(option, value, choices=None):
  """ConfigError naming option.key unless value is one the option takes; choices replace the
  declared ones (the task's debias kinds)."""
  key, kind = option.key, option.kind
  if kind == 'choice':
    check_choice(value, choices if choices is not None else option.choices, key)
  elif kind == 'int':
    if option.low == 0:
      check(is_int(value) and value >= 0, key, f'must be a non-negative integer ({option.zero}), got {value!r}')
    else:
      check(is_int(value) and value >= 1, key, f'must be a positive integer, got {value!r}')
  elif kind == 'fraction':
    check(is_number(value) and 0 <= value <= 1 and math.isfinite(value), key,
          f'must be in [0, 1] ({option.zero}), got {value!r}')
  elif kind == 'bytes':
    if value or not option.optional:
      try:
        sizes.parse_bytes(value)
      except ValueError as error:
        check(False, key, str(error))
  elif kind == 'names':
    check(isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value), key,
          f'must be a tuple of names, got {value!r}')
  elif kind == 'bool':
    check(isinstance(value, bool), key, f'must be True or False, got {value!r}')
  elif kind == 'positive':
    check(is_number(value) and value > 0 and math.isfinite(value), key, f'must be a positive number, got {value!r}')


class Section:
  """A config section's declared options, read-only, as a run spec carries them (spec.train.steps)."""

  def __init__(self, name, values):
    object.__setattr__(self, '_name', name)
    object.__setattr__(self, '_values', dict(values))

  def __getattr__(self, option):
    try:
      return self._values[option]
    except KeyError:
      raise AttributeError(f'{self._name} has no option {option!r}; declared: {sorted(self._values)}') from None

  def __setattr__(self, option, value):
    raise AttributeError(f'{self._name}.{option} is read-only in a run spec')

  def __eq__(self, other):
    return isinstance(other, Section) and (self._name, self._values) == (other._name, other._values)

  def __hash__(self):
    return hash((self._name, tuple(sorted(self._values.items()))))

  def __repr__(self):
    return f'{self._name}({", ".join(f"{k}={v!r}" for k, v in self._values.items())})'


def section_of(config, section):
  """The section's declared options of a config, as a run spec carries them."""
  return Section(section, {o.name: _frozen(config[section][o.name]) for o in of_section(section)})


def _frozen(value):
  return tuple(_frozen(v) for v in value) if isinstance(value, (list, tuple)) else value
