"""Figure 6: final test accuracy over layer-wise init scales (or learning rates), small set vs population.

  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py:small --out=results/demo
  python experiments/init_scale_heatmap.py --config=sweeps/lr_heatmap.py:small

Writes <out>/<config.name>.npz and .png; --config.<key>=value overrides any config key.
"""

from absl import app
from ml_collections import config_flags

from sslgap import cli
from sslgap import plotting
from sslgap import tasks

_CONFIG = config_flags.DEFINE_config_file('config', 'sweeps/init_scale_heatmap.py:small',
                                          'Sweep config file, with an optional :preset.')


def plot(results, config):
  p = config.plot
  population = tasks.make_task(config.task).population_size
  return plotting.heatmap_panels(results, p.x, p.y, p.panels, metric='test_acc', star=(1.0, 1.0),
                                 labels=dict(p.labels), title=config.name, population=population)


def main(argv):
  del argv
  cli.run_experiment(_CONFIG.value, plot)


if __name__ == '__main__':
  app.run(main)
