"""The theory model (Section 4.2): phase-1 steps T1 against the dataset size N, log-log, fitted.

  python experiments/theory.py --config=sweeps/theory.py:small

Left: median T1 over seeds per N, for true and random phase-1 labels, with the fitted slope
over d <= N <= d^2 and the theorem's bound a* sqrt(N) / eta. Right: total steps until the
weight is on the support, against population gradients from the start.
"""

import logging

import numpy as np

from sslgap import cli
from sslgap import plotting
from sslgap.models import quadratic_neuron as theory


def summarize(results, config):
  """{label: (sizes, median T1, slope, median total steps)} and the population's total steps."""
  a_star, d = config.hp.a_star, config.task.n
  sizes = results.coords['dataset_size']
  finite = sizes > 0
  target = config.plot.alignment
  total = results.steps_to_target('alignment', target)
  rows = {}
  for flag, label in ((0, 'true labels'), (1, 'random labels')):
    sel = results.sel(random_label_phases=flag)
    t1 = np.nanmedian(theory.phase1_steps(sel, a_star), axis=-1)
    steps = np.nanmedian(total[:, list(results.coords['random_label_phases']).index(flag)], axis=-1)
    fit = finite & (sizes >= d) & (sizes <= d * d)
    rows[label] = (sizes[finite], t1[finite], theory.loglog_slope(sizes[fit], t1[fit]), steps[finite])
  population = float(np.nanmedian(total[~finite][0, 0])) if (~finite).any() else np.nan
  return rows, population


def plot(results, config):
  rows, population = summarize(results, config)
  fig, axes = plotting.plt.subplots(1, 2, figsize=(10, 4), constrained_layout=True)
  for label, (sizes, t1, slope, total) in rows.items():
    axes[0].loglog(sizes, t1, marker='o', label=f'{label}: slope {slope:.2f}')
    axes[1].semilogx(sizes, total, marker='o', label=f'phase 1 with {label}')
    logging.getLogger('sslgap').warning('T1 slope with %s: %.3f; T1 medians %s', label, slope, np.round(t1, 1))
  sizes = rows['true labels'][0]
  axes[0].loglog(sizes, config.hp.a_star * np.sqrt(sizes) / config.hp.lr, 'k--', label='bound a* sqrt(N) / eta')
  axes[1].axhline(population, color='k', ls='--', label='population gradients only')
  axes[0].set(xlabel='phase-1 dataset size N', ylabel='phase-1 steps T1 (median)')
  axes[1].set(xlabel='phase-1 dataset size N', ylabel=f'steps to alignment {config.plot.alignment}')
  for ax in axes:
    ax.legend(fontsize=7)
  fig.suptitle(f'Theorem 1: quadratic neuron, (d={config.task.n}, 2)-parity, eta={config.hp.lr}, '
               f'a*={config.hp.a_star}', fontsize=10)
  return fig


if __name__ == '__main__':
  cli.main(plot, default_config='sweeps/theory.py:small')
