"""Refactors keep results: every preset's reduced grid equals the one recorded in tests/golden/.

Grids must be bitwise equal when this machine splits the CPU into as many XLA devices as the
machine that recorded them (each device then runs the same per-device batch). With another
device count XLA may order a reduction differently inside a vmapped batch, so the values need
only agree to 1e-6. CI runs the presets in CI_PRESETS, one per code path (about 80 s on 2 cores);
SSLGAP_GOLDEN=all runs every preset (about 9 minutes), which is what a refactor is checked with.
"""

import os

import jax
import numpy as np
import pytest

import golden

CI_PRESETS = [
    ('init_scale_heatmap', 'small'),  # the population pool, init-scale groups
    ('fig1_parity', 'small'),  # multi-phase schedules in epochs
    ('fig2_sim_gd', 'small'),  # full-batch GD with two static phases, SIM
    ('fig3_debias', 'small'),  # debiased pools, a static data axis
    ('fig3_biased_online', 'small'),  # biased online sampling
    ('fig4_random_labels', 'small'),  # random labels, online phases
    ('fig19_auto_schedule', 'small'),  # the auto-schedule
    ('fig29_adamw', 'small'),  # AdamW with traced beta2
    ('two_set', 'small'),  # pool fraction
    ('theory', 'small'),  # the quadratic neuron
    ('tfm_fig1', 'sim_small'),  # Transformer, tokens from features
    ('tfm_fig20_modadd_warmup', 'small'),  # Transformer decoder, classes, random labels
]

SELECTED = golden.PRESETS if os.environ.get('SSLGAP_GOLDEN') == 'all' else CI_PRESETS


@pytest.mark.parametrize('name,preset', SELECTED, ids=[f'{n}:{p}' for n, p in SELECTED])
def test_reduced_preset_equals_its_golden_grid(name, preset):
  path = golden.golden_path(name, preset)
  assert os.path.exists(path), f'no golden file {path}; record it with python tests/golden.py {name}:{preset}'
  plan, metrics = golden.grid(name, preset)
  with np.load(path) as want:
    assert [a for a, _ in plan.axes] == list(want['axis_names'])
    for axis, values in plan.axes:
      assert [str(v) for v in values] == list(want[f'coord_{axis}']), axis
    stored = {k[len('metric_'):] for k in want.files if k.startswith('metric_')}
    assert set(metrics) == stored
    bitwise = int(want['devices']) == jax.local_device_count()
    for metric, value in metrics.items():
      if bitwise:
        np.testing.assert_array_equal(value, want[f'metric_{metric}'], err_msg=metric)
      else:
        np.testing.assert_allclose(value, want[f'metric_{metric}'], rtol=1e-6, atol=1e-6, err_msg=metric)


def test_ci_presets_are_presets():
  assert set(CI_PRESETS) <= set(golden.PRESETS)
