"""Models as plug-ins (sslgap.models.base): the built-ins, and any a user registers.

  mlp               ReLU MLP with PyTorch-default init, standard or muP (sslgap.models.mlp)
  transformer       pre-LN encoder or causal decoder, optional QK norm (sslgap.models.transformer)
  quadratic_neuron  the paper's theory model, which trains itself (sslgap.models.quadratic_neuron)
"""

from sslgap.models.base import (INIT_SCHEMES, MODELS, Model, TorchDense, group_multipliers, group_norms,
                                layer_groups, make, register, torch_default_init)
from sslgap.models.mlp import ACTIVATIONS, MLP, MLPModel, layer_norms
from sslgap.models.quadratic_neuron import QuadraticNeuron
from sslgap.models.transformer import QK_GROUPS, Transformer, TransformerModel

__all__ = ['ACTIVATIONS', 'INIT_SCHEMES', 'MLP', 'MODELS', 'QK_GROUPS', 'MLPModel', 'Model', 'QuadraticNeuron',
           'TorchDense', 'Transformer', 'TransformerModel', 'group_multipliers', 'group_norms', 'layer_groups',
           'layer_norms', 'make', 'register', 'torch_default_init']
