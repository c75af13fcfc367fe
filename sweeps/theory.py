"""Theorem 1 and Corollary 2: one quadratic neuron on (d,2)-sparse parity, projected GD with the
correlation loss, phase 1 on N samples until |a| reaches a*, then population gradients.

Measures phase-1 steps T1 against N (the theorem: T1 <= a* sqrt(N) / eta, so slope 1/2 on
log-log axes for d <= N <= d^2), with true labels and with random labels in phase 1, and the
total steps until the neuron's weight sits on the support (w0^2 + w1^2 >= 0.99), against
population gradients from the start (N = online).

  python experiments/theory.py --config=sweeps/theory.py:small   # CPU, ~1 minute
  python experiments/theory.py --config=sweeps/theory.py         # more seeds and sizes

Our choices: d = 64, m = 64 (a starts in U(-1/8, 1/8)), eta = 0.05, a* = 0.5, N from d to d^2.
"""

from sslgap import config as config_lib
from sslgap import figures


# The experiments of this file, for the report, the paper-scale rehearsal and the golden tests:
# an id, the figure as the paper numbers it, and the preset at each scale ('': the default).
RANK = 220  # where the report lists this file's experiments (lower first)
EXPERIMENTS = (
    dict(id='theory', figure='Thm 1, Cor 2', script='theory', small='small', paper=''),
)


def get_config(arg=None):
  preset = figures.preset(arg)
  c = config_lib.base_config()
  c.name = 'theory'
  d = 64
  c.task.n, c.task.k = d, 2
  c.model.kind, c.model.width = 'quadratic_neuron', 64
  c.train.steps, c.train.eval_every = 4000, 20
  c.hp.lr, c.hp.a_star = 0.05, 0.5
  per_octave = 1 if preset == 'small' else 4
  sizes = tuple(int(round(d * 2**(i / per_octave))) for i in range(6 * per_octave + 1))
  c.sweep.dataset_size = sizes + ('online',)
  c.sweep.random_label_phases = (0, 1)
  c.sweep.seed = tuple(range(16 if preset == 'small' else 128))
  c.plot = dict(alignment=0.99)
  c.claims = (
      dict(kind='slope', name='theorem1', text='Theorem 1: phase-1 steps grow no faster than sqrt(N) (d <= N <= d^2).',
           metric='t1', best='min', x_axis='dataset_size', x_range=[d, d * d], at_most=0.5,
           series={'random_label_phases': 0}, fixed_lr=True),
      dict(kind='slope', name='corollary2', text='Corollary 2: ... and so with random labels in phase 1.', metric='t1',
           best='min', x_axis='dataset_size', x_range=[d, d * d], at_most=0.5, series={'random_label_phases': 1},
           fixed_lr=True),
      dict(kind='faster', text='2-phase training (N = d) aligns the neuron in fewer steps than population gradients '
           'alone.', metric='alignment', target=0.99, a={'dataset_size': d, 'random_label_phases': 0},
           b={'dataset_size': 'online', 'random_label_phases': 0}, fixed_lr=True),
  )
  figures.paper(c, 'theorem1', 'the first phase updates with Equation 1 using a randomly sampled dataset of size N, '
                'until |a| reaches a* [...]; T1 <= a* sqrt(N) / eta (the bound of Theorem 1, as NOTES.md recovers it)',
                'Section 4.2, Theorem 1', 'the theorem\'s own model (one quadratic neuron, projected GD at a fixed lr); '
                'the bound read as a log-log slope of at most 1/2 over d <= N <= d^2; ' +
                ('16 seeds' if preset == 'small' else '128 seeds'))
  return c
