"""Learning curves: how dataset size and reuse change training, against steps and compute.

One script for the curve figures (Figs 1, 2, 3, 4, 7, 10-12, 14, 18, 19, 21-24, 29, two-set
training); each config's `plot` section says which axis makes the lines and panels:

  python experiments/learning_curves.py --config=sweeps/fig2_parity_gd.py:small
  python experiments/learning_curves.py --config=sweeps/fig4_random_labels.py:small --out=results/fig4

Seeds are averaged; any other axis not drawn (a learning-rate grid, say) is set per line to
the value whose curve is best on average over training (the fastest), named in the legend. plot.x_axis draws the final metric against a swept
axis instead (Figs 7, 21-23).
"""

from sslgap import cli

if __name__ == '__main__':
  cli.main(default_config=None)
