"""The benchmark scripts run and report what they promise (tiny settings; no timing is asserted)."""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(args):
  env = dict(os.environ, JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
  assert out.returncode == 0, out.stderr
  return out.stdout


def test_bench_sweep_reports_ratios_and_json_keys(tmp_path):
  path = tmp_path / 'bench.json'
  stdout = _run(['benchmarks/bench_sweep.py', '--workloads=mlp', '--rounds=1', '--steps=10',
                 '--chunk_sizes=4', '--ensemble_sizes=2', f'--json={path}'])
  figures = json.loads(path.read_text())
  for key in ('sslgap_run_steps_per_s', 'torch_loop_run_steps_per_s', 'torch_vmap_run_steps_per_s',
              'matmul_peak_flops', 'sslgap_flops'):
    assert key in figures
  assert figures['sslgap_run_steps_per_s'] > 0 and figures['matmul_peak_flops'] > 0
  assert abs(figures['sslgap_flops'] - figures['sslgap_run_steps_per_s'] * 6 * 128 * 5569) < 1e-3 * figures['sslgap_flops']
  assert '% peak' in stdout and 'matmuls alone' in stdout
  try:
    import torch  # noqa: F401
    assert figures['torch_loop_run_steps_per_s'] > 0 and 'x the torch loop' in stdout
  except ImportError:
    assert figures['torch_loop_run_steps_per_s'] is None and 'PyTorch is not installed' in stdout


def test_bench_memory_compares_measured_to_estimate():
  stdout = _run(['benchmarks/bench_memory.py', '--chunk_sizes=8', '--steps=10'])
  row = stdout.strip().splitlines()[-1].split()
  assert row[0] == '8' and float(row[1]) > 0 and float(row[3]) >= 0


def test_bench_sweep_runs_the_transformer_workload(tmp_path):
  path = tmp_path / 'bench.json'
  stdout = _run(['benchmarks/bench_sweep.py', '--workloads=transformer', '--rounds=1', '--steps=4',
                 '--chunk_sizes=2', '--ensemble_sizes=2', f'--json={path}'])
  figures = json.loads(path.read_text())['workloads']['transformer']
  assert figures['sslgap_run_steps_per_s'] > 0 and 'encoder of 2 layers' in stdout


def test_the_torch_encoder_has_the_parameters_of_sslgaps():
  torch = pytest.importorskip('torch')
  sys.path.insert(0, os.path.join(ROOT, 'benchmarks'))
  import bench_sweep
  workload = bench_sweep.WORKLOADS['transformer']
  encoder = bench_sweep.torch_model(torch, workload)
  assert sum(p.numel() for p in encoder.parameters()) == bench_sweep.params_per_run(workload)


def test_bench_widths_measures_its_matrix_and_names_what_it_skipped(tmp_path):
  path = tmp_path / 'widths.json'
  stdout = _run(['benchmarks/bench_widths.py', '--workloads=fig6', '--widths=4', '--unrolls=1,2', '--steps=4',
                 '--repeats=1', f'--json={path}'])
  found = json.loads(path.read_text())
  cells = {(r['width'], r['unroll'], r['command_buffers']) for r in found['rows']}
  assert cells == {(4, 1, 'off'), (4, 2, 'off')} and all(r['run_steps_per_s'] > 0 for r in found['rows'])
  assert found['fastest']['fig6'] in found['rows']
  assert 'skipped: setting on: command buffers are a GPU feature' in stdout  # a CPU
  assert 'x1 the baseline (width 4, unroll 1, command buffers off)' in stdout and 'fastest for fig6: width 4' in stdout


@pytest.mark.parametrize('args,said', [
    (['medium', 'nonsense'], 'error: not at the medium scale: nonsense'),
    (['design'], 'error: name the experiments to design'),
])
def test_gpu_tier_refuses_an_id_it_cannot_run_in_one_line_before_anything_runs(tmp_path, args, said):
  out = subprocess.run(['bash', 'benchmarks/gpu_tier.sh', str(tmp_path / 'out'), '5', *args], cwd=ROOT,
                       env=dict(os.environ, JAX_PLATFORMS='cpu'), capture_output=True, text=True)
  assert out.returncode == 2, out.stderr
  assert out.stderr.strip().splitlines() == [next(l for l in out.stderr.splitlines() if l.startswith('error:'))]
  assert out.stderr.strip().startswith(said) and not os.path.exists(tmp_path / 'out' / 'tier.tgz')
