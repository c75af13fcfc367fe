"""Layer-wise parameterisations as fixed multipliers on PyTorch's init and on the learning rate.

'standard' is PyTorch's default (every multiplier 1). 'mup' is maximal-update
parameterisation for SGD (Tensor Programs V, Table 3), written relative to PyTorch's init:

  layer            weight init variance    weight lr      bias lr
  first (input)    1 / fan_in  (x1)        eta x fan_out   eta x fan_out
  hidden           1 / fan_in  (x1)        eta             eta x fan_out
  readout          1 / fan_in^2 (std x 1/sqrt(fan_in))  eta / fan_in   eta

Biases keep PyTorch's init; as in TP5 they are input-like weights, so their lr scales with
fan_out. The multipliers multiply the traced per-group ones, so a muP sweep still vmaps.
alpha-scaling needs no entry here: it is the traced hp.alpha (first layer / alpha, others x alpha).
"""

import jax

PARAMETERIZATIONS = ('standard', 'mup')


def _role(name, names):
  if name == names[0]:
    return 'input'
  return 'output' if name == 'readout' else 'hidden'


def multipliers(kind, params):
  """(init multipliers, lr multipliers): trees like params of Python floats."""
  if kind == 'standard':
    ones = jax.tree_util.tree_map(lambda _: 1.0, params)
    return ones, ones
  names = list(params)
  init, lr = {}, {}
  for name, layer in params.items():
    fan_in, fan_out = layer['kernel'].shape
    role = _role(name, names)
    if kind == 'mup':
      init[name] = {'kernel': fan_in**-0.5 if role == 'output' else 1.0, 'bias': 1.0}
      lr[name] = {'kernel': {'input': float(fan_out), 'hidden': 1.0, 'output': 1.0 / fan_in}[role],
                  'bias': 1.0 if role == 'output' else float(fan_out)}
    else:
      raise ValueError(f'config.model.parameterization: unknown {kind!r}; known: {PARAMETERIZATIONS}')
  return init, lr


def scale(tree, factors):
  return jax.tree_util.tree_map(lambda p, f: p * f, tree, factors)
