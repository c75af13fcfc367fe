import os
import sys

# Tests run on the CPU with one device unless a test asks for more in a subprocess.
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import pytest  # noqa: E402

from sslgap import config as config_lib  # noqa: E402


@pytest.fixture
def tiny_config():
  """(8,3)-parity, one hidden layer of width 16, a few steps: compiles and runs in seconds."""
  c = config_lib.base_config()
  c.task.n, c.task.k, c.task.test_size = 8, 3, 256
  c.model.hidden_layers, c.model.width = 1, 16
  c.train.batch_size, c.train.steps, c.train.eval_every = 16, 20, 10
  c.data.eval_train_size = 64
  c.hp.dataset_size = 64
  return c
