"""Refactors keep results: every preset's reduced grid equals the one recorded in tests/golden/.

Grids must be bitwise equal when this kind of machine recorded them (tests/golden.py: the bits
depend on the CPU's vector instructions). They are computed on as many XLA devices as the recording
was (with another count XLA may order a reduction differently inside a vmapped batch): in the test's
process where its count is the recording's, else in one process of that count for all of them
(golden.record_on). On a kind of machine that recorded nothing,
the default recording is compared bitwise where it matches; where it does not, only the initial
evaluation (initialisation, data, the first metrics) must agree to 1e-5: training turns a CPU's
rounding into differences of up to 0.67 in 200 steps (full-batch GD on parity), so nothing tighter
would hold, and the test warns that this machine should record its own (python tests/golden.py).
CI runs the presets in CI_PRESETS, one per code path (about 80 s on 2 cores); SSLGAP_GOLDEN=all runs
every preset (about 9 minutes), which is what a refactor is checked with (on a recorded machine).
"""

import os
import warnings

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

pytestmark = pytest.mark.optimized  # recorded at XLA's default level, as users run (conftest.py)

SELECTED = golden.PRESETS if os.environ.get('SSLGAP_GOLDEN') == 'all' else CI_PRESETS


def _recorded_devices(name, preset):
  with np.load(golden.recorded_path(name, preset)[0]) as want:
    return int(want['devices'])


@pytest.fixture(scope='module')
def computed_elsewhere(tmp_path_factory):
  """The folder of the SELECTED presets whose recording holds another device count than this process's,
  computed on that count, one process per count (golden.record_on)."""
  folder = tmp_path_factory.mktemp('golden_elsewhere')
  counts = {}
  for name, preset in SELECTED:
    if os.path.exists(golden.recorded_path(name, preset)[0]) and _recorded_devices(name, preset) != jax.local_device_count():
      counts.setdefault(_recorded_devices(name, preset), []).append((name, preset))
  for devices, presets in counts.items():
    golden.record_on(presets, devices, folder)
  return folder


@pytest.mark.parametrize('name,preset', SELECTED, ids=[f'{n}:{p}' for n, p in SELECTED])
def test_reduced_preset_equals_its_golden_grid(name, preset, computed_elsewhere):
  path, this_machine = golden.recorded_path(name, preset)
  assert os.path.exists(path), f'no golden file {path}; record it with python tests/golden.py {name}:{preset}'
  devices = _recorded_devices(name, preset)
  if devices == jax.local_device_count():
    plan, metrics = golden.grid(name, preset)
    axes = [(axis, [str(v) for v in values]) for axis, values in plan.axes]
  else:  # the test processes run one device (conftest): the recording's count needs a process of its own
    axes, metrics = golden.grid_on(name, preset, computed_elsewhere)
  with np.load(path) as want:
    assert [a for a, _ in axes] == list(want['axis_names'])
    for axis, values in axes:
      assert list(values) == list(want[f'coord_{axis}']), axis
    stored = {k[len('metric_'):] for k in want.files if k.startswith('metric_')}
    assert set(metrics) == stored
    recorded = {metric: want[f'metric_{metric}'] for metric in metrics}
  if this_machine or all(np.array_equal(v, recorded[m], equal_nan=True) for m, v in metrics.items()):
    for metric, value in metrics.items():
      np.testing.assert_array_equal(value, recorded[metric], err_msg=metric)
  else:  # another kind of machine: its rounding, amplified by training
    for metric, value in metrics.items():
      np.testing.assert_allclose(value[..., 0], recorded[metric][..., 0], rtol=1e-5, atol=1e-5, err_msg=metric)
    warnings.warn(f'{name}:{preset}: this kind of machine ({golden.machine_signature()}) has no golden recording, '
                  'so only the initial evaluation was compared; record one with python tests/golden.py')


def test_ci_presets_are_presets():
  assert set(CI_PRESETS) <= set(golden.PRESETS)
