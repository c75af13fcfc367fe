"""The theory model (Section 4.2): phase-1 steps T1 against the dataset size N, log-log, fitted.

  python experiments/theory.py --config=sweeps/theory.py:small

Left: median T1 over seeds per N, for true and random phase-1 labels, with the fitted slope
over d <= N <= d^2 and the theorem's bound a* sqrt(N) / eta. Right: total steps until the
weight is on the support, against population gradients from the start.
"""

from sslgap import cli

if __name__ == '__main__':
  cli.main(default_config='sweeps/theory.py:small')
