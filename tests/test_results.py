import json
import os
import subprocess
import sys

import numpy as np
import pytest

from sslgap import results


def _write(tmp_path, mode='minibatch'):
  axes = [('init_scale_first', [0.5, 1.0]), ('dataset_size', [64, 'online']), ('seed', [0, 1, 2])]
  steps = np.array([0, 10, 20])
  acc = np.zeros((2, 2, 3, 3), np.float32)
  acc[..., 1] = 0.6
  acc[..., 2] = 0.9
  acc[1, 1, :, 2] = [0.7, np.nan, 0.8]  # one diverged run
  acc[0, 0, 0, 1] = 0.95  # reaches 0.9 at step 10 for one seed
  path = tmp_path / 'r.npz'
  config = {'train': {'batch_size': 16}, 'data': {'mode': mode}, 'hp': {'dataset_size': 64}}
  # what the engine writes from the run spec: batch x steps, or each dataset's size a step (size 1 on
  # the axes that do not change it)
  examples = (steps * 16.0).reshape(1, 1, 1, 3) if mode == 'minibatch' else \
      np.stack([steps * 64.0, steps * 0.0]).reshape(1, 2, 1, 3)
  results.save(str(path), axes, steps, {'test_acc': acc}, json.dumps(config), examples_seen=examples,
               sslgap_version='x')
  return path, acc


def test_round_trip_follows_the_contract(tmp_path):
  path, acc = _write(tmp_path)
  with np.load(path) as f:
    assert list(f['axis_names']) == ['init_scale_first', 'dataset_size', 'seed']
    np.testing.assert_array_equal(f['coord_dataset_size'], [64, 0])
    np.testing.assert_array_equal(f['eval_steps'], [0, 10, 20])
    assert f['metric_test_acc'].shape == (2, 2, 3, 3)
    assert json.loads(str(f['config_json']))['train']['batch_size'] == 16
  r = results.load(path)
  np.testing.assert_array_equal(r['test_acc'], acc)
  assert r.info['sslgap_version'] == 'x'


def test_selection_and_seed_mean(tmp_path):
  r = results.load(_write(tmp_path)[0])
  sub = r.sel(dataset_size='online', init_scale_first=1.0)
  assert sub.axis_names == ['seed']
  np.testing.assert_allclose(sub.final('test_acc'), [0.7, np.nan, 0.8])
  mean = r.mean('seed')
  assert mean.axis_names == ['init_scale_first', 'dataset_size']
  np.testing.assert_allclose(mean.final('test_acc')[1, 1], 0.75)  # NaN run ignored
  kept = r.sel(init_scale_first=[1.0])
  assert kept.shape == (1, 2, 3)
  with pytest.raises(KeyError, match='no value 3.0'):
    r.sel(init_scale_first=3.0)
  with pytest.raises(KeyError, match='no axis'):
    r.sel(width=4)


def test_steps_and_compute_to_target(tmp_path):
  r = results.load(_write(tmp_path)[0])
  steps = r.steps_to_target('test_acc', 0.9)
  assert steps[0, 0, 0] == 10 and steps[0, 0, 1] == 20
  assert np.isnan(steps[1, 1, 0])  # never reached 0.9
  np.testing.assert_array_equal(r.compute_to_target('test_acc', 0.9)[0, 0, :2], [160, 320])


def test_compute_for_full_batch_counts_the_dataset(tmp_path):
  r = results.load(_write(tmp_path, mode='full_batch')[0])
  compute = r.compute_to_target('test_acc', 0.9)
  assert compute[0, 0, 0] == 10 * 64
  # the compute axis follows selection and reduction: size 1 where an axis does not change it
  assert r.sel(init_scale_first=1.0).examples_seen().shape == (2, 1, 3)
  assert r.mean('seed').examples_seen().shape == (1, 2, 3)
  np.testing.assert_array_equal(r.examples_at({'dataset_size': 64}), [0, 640, 1280])
  with pytest.raises(ValueError, match='processed different examples'):
    r.examples_at({})
  with pytest.raises(results.ResultsError, match='has no examples_seen'):
    r.with_examples(None).examples_seen()


def test_load_needs_only_numpy(tmp_path):
  path, _ = _write(tmp_path)
  code = (
      "import sys; sys.modules['jax'] = None; sys.modules['flax'] = None\n"
      "from sslgap import results\n"
      f"r = results.load({str(path)!r})\n"
      "print(r.mean().final('test_acc').shape)\n"
  )
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, cwd=root, check=True)
  assert out.stdout.strip() == '(2, 2)'


def test_save_is_atomic_and_checks_shapes(tmp_path):
  with pytest.raises(ValueError, match='expected'):
    results.save(str(tmp_path / 'bad.npz'), [('seed', [0, 1])], [0], {'m': np.zeros((3, 1))}, '{}')
  assert os.listdir(tmp_path) == []


def test_diverged_runs_are_listed_with_their_coordinates(tmp_path):
  r = results.load(_write(tmp_path)[0])
  assert r.diverged('test_acc') == [{'init_scale_first': 1.0, 'dataset_size': 0, 'seed': 1}]


def test_tuple_valued_axes_select_by_tuple(tmp_path):
  axes = [('phase_sizes', [(16, 'online'), ('online', 'online')]), ('seed', [0, 1])]
  path = tmp_path / 'p.npz'
  results.save(str(path), axes, [0], {'m': np.arange(4.0).reshape(2, 2, 1)}, '{}')
  r = results.load(path)
  np.testing.assert_array_equal(r.sel(phase_sizes=('online', 'online')).final('m'), [2.0, 3.0])
  assert r.sel(phase_sizes=[(16, 'online')]).shape == (1, 2)


def test_an_empty_tuple_is_a_coordinate_too(tmp_path):
  axes = [('data__online_groups', [(), ('qk',)])]
  path = tmp_path / 'e.npz'
  results.save(str(path), axes, [0], {'m': np.array([[1.0], [2.0]])}, '{}')
  r = results.load(path)
  assert r.sel(data__online_groups=()).final('m') == 1.0
  assert r.sel(data__online_groups=['qk']).final('m') == 2.0


def test_online_has_one_representation_and_sel_takes_every_spelling(tmp_path):
  """0 in coords, tuples, xarray and DataFrames alike (old grids spelled it 'online' inside tuples);
  sel accepts 'online', 0 and either inside a tuple."""
  axes = [('phase_sizes', [(16, 'online'), ('online', 'online')]), ('dataset_size', [64, 'online'])]
  acc = np.arange(2 * 2 * 3, dtype=np.float32).reshape(2, 2, 3)
  path = str(tmp_path / 'g.npz')
  results.save(path, axes, [0, 10, 20], {'test_acc': acc}, json.dumps({'name': 'g'}))
  r = results.load(path)
  assert r.coords['phase_sizes'].tolist() == ['(16, 0)', '(0, 0)'] and r.coords['dataset_size'].tolist() == [64, 0]
  for phases in [(16, 'online'), (16, 0), '(16, 0)', "(16, 'online')"]:
    assert r.sel(phase_sizes=phases, dataset_size='online')['test_acc'].tolist() == acc[0, 1].tolist()
  assert r.sel(dataset_size=0).shape == r.sel(dataset_size='online').shape == (2,)
  old = results.Results(['phase_sizes'], {'phase_sizes': np.array(["(16, 'online')", "('online', 'online')"])},
                        [0], {'m': np.zeros((2, 1))})  # as sslgap wrote tuples before
  assert old._coord_values('phase_sizes').tolist() == ['(16, 0)', '(0, 0)']
  assert old.sel(phase_sizes=(0, 0))['m'].shape == (1,)
