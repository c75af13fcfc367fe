"""Figure 6: final test accuracy over layer-wise init scales (or learning rates), small set vs population.

  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py:small --out=results/demo
  python experiments/init_scale_heatmap.py --config=sweeps/lr_heatmap.py:small

Writes <out>/<config.name>.npz and .png; --config.<key>=value overrides any config key.
"""

from sslgap import cli

if __name__ == '__main__':
  cli.main(default_config='sweeps/init_scale_heatmap.py:small')
