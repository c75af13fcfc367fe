"""Figure 6: final test accuracy over layer-wise init scales (or learning rates), small set vs population.

  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py:small --out=results/demo
  python experiments/init_scale_heatmap.py --config=sweeps/lr_heatmap.py:small

Writes <out>/<config.name>.npz and .png; --config.<key>=value overrides any config key.
"""

from sslgap import cli
from sslgap import plotting
from sslgap import tasks


def plot(results, config):
  p = config.plot
  population = tasks.make_task(config.task).population_size
  return plotting.heatmap_panels(results, p.x, p.y, p.panels, metric='test_acc', star=(1.0, 1.0),
                                 labels=dict(p.labels), title=config.name, population=population)


if __name__ == '__main__':
  cli.main(plot, default_config='sweeps/init_scale_heatmap.py:small')
