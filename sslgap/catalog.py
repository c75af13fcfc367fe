"""Every experiment of the paper that sslgap runs: which script, which config file, which preset
at each scale. The report, the paper-scale rehearsal and the golden tests all read this list.

  small    a 2-core CPU, about a minute
  medium   a 2-core CPU, up to about an hour: settles a disagreement seen at the small scale
  paper    the paper's scale, for a GPU
"""

import dataclasses
import os

from sslgap import config as config_lib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIERS = ('small', 'medium', 'paper')


@dataclasses.dataclass(frozen=True)
class Experiment:
  id: str
  figure: str  # as the paper numbers it
  script: str  # experiments/<script>.py
  config: str  # sweeps/<config>.py
  presets: tuple  # ((tier, preset), ...)

  def preset(self, tier):
    return dict(self.presets).get(tier)

  @property
  def config_path(self):
    """The config file (relative to the repository root); `config` may be a path of its own."""
    return self.config if self.config.endswith('.py') else os.path.join('sweeps', f'{self.config}.py')

  def has(self, tier):
    return tier in dict(self.presets)

  def command(self, tier, out=None):
    """The command a user types to run it (outputs in results/<config.name> unless out)."""
    preset = self.preset(tier)
    spec = self.config_path + (f':{preset}' if preset else '')
    return f'python experiments/{self.script}.py --config={spec}' + (f' --out={out}' if out else '')


def _curves(id_, figure, config, small='small', paper='', medium=None):
  presets = (('small', small), ('paper', paper)) + ((('medium', medium),) if medium else ())
  return Experiment(id_, figure, 'learning_curves', config, presets)


EXPERIMENTS = [
    Experiment('fig6_init', '6 (init)', 'init_scale_heatmap', 'init_scale_heatmap', (('small', 'small'), ('paper', ''))),
    Experiment('fig6_lr', '6 (lr)', 'init_scale_heatmap', 'lr_heatmap', (('small', 'small'), ('paper', ''))),
    _curves('fig1_parity', '1 (MLP, parity)', 'fig1_parity', medium='medium'),
    _curves('fig1_sim', '1 (MLP, SIM)', 'fig1_sim'),
    _curves('fig2_parity_gd', '2 (parity GD)', 'fig2_parity_gd', medium='medium'),
    Experiment('fig2_parity_gd_population', '2 (parity GD, to the population)', 'learning_curves', 'fig2_parity_gd',
               (('medium', 'population_medium'),)),
    _curves('fig2_sim_gd', '2 (SIM GD)', 'fig2_sim_gd'),
    _curves('fig3_debias', '3(a)', 'fig3_debias'),
    _curves('fig3_biased_online', '3(b)', 'fig3_biased_online'),
    _curves('fig4_random_labels', '4, 12', 'fig4_random_labels', medium='medium'),
    _curves('fig7_alpha', '7, 23 (alpha)', 'fig7_alpha'),
    _curves('fig7_mup', '7, 21, 22 (muP)', 'fig7_mup'),
    _curves('fig10_parity_k', '10 (parity)', 'fig10_parity_k'),
    _curves('fig10_sim_degree', '10 (SIM)', 'fig10_sim_degree'),
    _curves('fig11_depth', '11 (depth)', 'fig11_depth'),
    _curves('fig11_width', '11 (width)', 'fig11_width'),
    _curves('fig24_width_sim', '24', 'fig24_width_sim'),
    _curves('fig14_full_parity', '14', 'fig14_full_parity'),
    _curves('fig18_size_ablation', '18', 'fig18_size_ablation'),
    _curves('fig19_auto_schedule', '19', 'fig19_auto_schedule'),
    _curves('two_set', 'two-set', 'two_set'),
    _curves('fig29_adamw', '29', 'fig29_adamw'),
    Experiment('theory', 'Thm 1, Cor 2', 'theory', 'theory', (('small', 'small'), ('paper', ''))),
    _curves('tfm_fig1_parity', '1 (Tfm, parity)', 'tfm_fig1', 'small', 'paper'),
    _curves('tfm_fig1_sim', '1 (Tfm, SIM)', 'tfm_fig1', 'sim_small', 'sim', medium='sim_medium'),
    _curves('tfm_fig1_icl', '1 (Tfm, ICL)', 'tfm_fig1', 'icl_small', 'icl'),
    _curves('tfm_fig1_modadd', '1 (Tfm, mod add)', 'tfm_fig1', 'modadd_small', 'modadd', medium='modadd_medium'),
    _curves('tfm_fig8_qk_lr', '8 (QK lr)', 'tfm_fig8_qk', 'small', 'lr'),
    _curves('tfm_fig8_qk_init', '8 (QK init)', 'tfm_fig8_qk', 'init_small', 'init'),
    _curves('tfm_fig8_qk_norm', '8 (QK norm)', 'tfm_fig8_qk', 'norm_small', 'norm', medium='norm_medium'),
    _curves('tfm_fig9_sim_init', '9 (SIM QK init)', 'tfm_fig8_qk', 'sim_init_small', 'sim_init'),
    _curves('tfm_fig9_icl_init', '9 (ICL QK init)', 'tfm_fig8_qk', 'icl_init_small', 'icl_init'),
    _curves('tfm_fig9_sim_lr', '9 (SIM QK lr)', 'tfm_fig8_qk', 'sim_lr_small', 'sim_lr', medium='sim_lr_medium'),
    _curves('tfm_fig9_icl_lr', '9 (ICL QK lr)', 'tfm_fig8_qk', 'icl_lr_small', 'icl_lr'),
    _curves('tfm_fig9_sim_norm', '9 (SIM QK norm)', 'tfm_fig8_qk', 'sim_norm_small', 'sim_norm'),
    _curves('tfm_fig9_icl_norm', '9 (ICL QK norm)', 'tfm_fig8_qk', 'icl_norm_small', 'icl_norm', medium='icl_norm_medium'),
    _curves('tfm_fig15_gd', '15', 'tfm_fig15_gd', medium='medium'),
    _curves('tfm_fig16_debias', '16', 'tfm_fig16_debias', medium='medium'),
    _curves('tfm_fig20_modadd_warmup', '20', 'tfm_fig20_modadd_warmup', medium='medium'),
    _curves('tfm_fig26_depth', '26', 'tfm_fig26_depth'),
    _curves('tfm_fig27_qk_norm', '27', 'tfm_fig27_qk_norm', 'small', 'paper'),
    _curves('tfm_fig28_modadd_qk_norm', '28', 'tfm_fig27_qk_norm', 'modadd_small', 'modadd', medium='modadd_medium'),
    _curves('tfm_fig30_param_source', '30', 'tfm_fig30_param_source', medium='medium'),
]
BY_ID = {e.id: e for e in EXPERIMENTS}


def find(ids):
  """The experiments named by ids (all if empty); ValueError names an unknown one."""
  unknown = [i for i in ids if i not in BY_ID]
  if unknown:
    raise ValueError(f'unknown experiment(s) {unknown}; known: {", ".join(BY_ID)}')
  return [BY_ID[i] for i in ids] if ids else list(EXPERIMENTS)


def load_config(experiment, tier):
  """The config of an experiment at a tier (config files are code: this runs get_config)."""
  preset = experiment.preset(tier)
  return config_lib.load(os.path.join(ROOT, experiment.config_path) + (f':{preset}' if preset else ''))


def for_tier(tier, ids=()):
  """The experiments (of ids, if given) that have a preset at this tier."""
  return [e for e in find(ids) if e.has(tier)]
