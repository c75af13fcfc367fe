"""A small pre-LayerNorm Transformer for the paper's sequence experiments.

Encoder (no mask) or decoder (causal); optional QK normalisation (RMSNorm with a learnable
scale on queries and keys, per head); PyTorch-default init: every Linear U(+-1/sqrt(fan_in)),
embeddings N(0, 1), norms at scale 1 and bias 0. Parameter names address each piece:

  token_embed, position_embed, layer_<i>/attn/{q,k,v,o}, layer_<i>/attn/{q_norm,k_norm},
  layer_<i>/ln_attn, layer_<i>/ln_mlp, layer_<i>/mlp/{fc_in,fc_out}, ln_final, readout

so a rule like ('layer_\\d+/attn/(q|k)', 'qk') gives W_Q and W_K their own init scale and lr.

How a task's examples become tokens:
  parity   each bit a token id (0 for -1, 1 for +1)
  modadd   the digit and '+', '=' token ids
  sim      each coordinate a token whose value scales a learned vector (Linear 1 -> dim)
  icl      each [x, y] slot a token through Linear(d + 1 -> dim)
"""

import math
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from sslgap.errors import ConfigError, check_choice_field, check_positive_ints
from sslgap.models import base


class RMSNorm(nn.Module):
  @nn.compact
  def __call__(self, x):
    scale = self.param('scale', nn.initializers.ones, (x.shape[-1],))
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + 1e-6) * scale


class Attention(nn.Module):
  dim: int
  heads: int
  causal: bool
  qk_norm: bool
  init_scheme: str = 'uniform'

  def setup(self):
    dense = lambda: base.TorchDense(self.dim, self.init_scheme)
    self.q, self.k, self.v, self.o = dense(), dense(), dense(), dense()
    if self.qk_norm:
      self.q_norm, self.k_norm = RMSNorm(), RMSNorm()

  def _heads(self, t):
    return t.reshape(t.shape[0], t.shape[1], self.heads, self.dim // self.heads)

  def logits(self, x_BxSxD):
    """Attention logits [B, H, S, S] before the mask (exposed for tests)."""
    q, k = self._heads(self.q(x_BxSxD)), self._heads(self.k(x_BxSxD))
    if self.qk_norm:
      q, k = self.q_norm(q), self.k_norm(k)
    return jnp.einsum('bshd,bthd->bhst', q, k) / math.sqrt(self.dim // self.heads)

  def __call__(self, x_BxSxD):
    b, s, _ = x_BxSxD.shape
    logits_BxHxSxS = self.logits(x_BxSxD)
    if self.causal:
      logits_BxHxSxS = jnp.where(jnp.tril(jnp.ones((s, s), bool)), logits_BxHxSxS, -1e30)
    weights = jax.nn.softmax(logits_BxHxSxS, axis=-1)
    out = jnp.einsum('bhst,bthd->bshd', weights, self._heads(self.v(x_BxSxD))).reshape(b, s, self.dim)
    return self.o(out)


class Block(nn.Module):
  dim: int
  heads: int
  mlp_ratio: int
  causal: bool
  qk_norm: bool
  init_scheme: str = 'uniform'

  @nn.compact
  def __call__(self, h):
    torch_ln = lambda name: nn.LayerNorm(epsilon=1e-5, name=name)
    h = h + Attention(self.dim, self.heads, self.causal, self.qk_norm, self.init_scheme, name='attn')(
        torch_ln('ln_attn')(h))
    x = torch_ln('ln_mlp')(h)
    mlp = nn.Sequential([base.TorchDense(self.mlp_ratio * self.dim, self.init_scheme, name='fc_in'), nn.gelu,
                         base.TorchDense(self.dim, self.init_scheme, name='fc_out')], name='mlp')
    return h + mlp(x)


class Transformer(nn.Module):
  layers: int
  heads: int
  dim: int
  mlp_ratio: int
  causal: bool
  qk_norm: bool
  readout: str  # 'mean' over tokens or the 'last' token
  encoding: str  # 'ids' or 'features'
  vocab: int  # vocabulary size for ids, features per token otherwise
  out_dim: int
  init_scheme: str = 'uniform'

  def tokens(self, x):
    if self.encoding == 'ids':
      ids = (x > 0).astype(jnp.int32) if self.vocab == 2 else x.astype(jnp.int32)
      return nn.Embed(self.vocab, self.dim, embedding_init=nn.initializers.normal(1.0), name='token_embed')(ids)
    features = x.astype(jnp.float32)
    if features.ndim == 2:  # one scalar per token
      features = features[..., None]
    return base.TorchDense(self.dim, self.init_scheme, name='token_embed')(features)

  @nn.compact
  def __call__(self, x):
    h = self.tokens(x)
    positions = nn.Embed(h.shape[1], self.dim, embedding_init=nn.initializers.normal(1.0), name='position_embed')
    h = h + positions(jnp.arange(h.shape[1]))
    for i in range(self.layers):
      h = Block(self.dim, self.heads, self.mlp_ratio, self.causal, self.qk_norm, self.init_scheme, name=f'layer_{i}')(h)
    h = nn.LayerNorm(epsilon=1e-5, name='ln_final')(h)
    pooled = h.mean(axis=1) if self.readout == 'mean' else h[:, -1]
    out = base.TorchDense(self.out_dim, self.init_scheme, name='readout')(pooled)
    return out[..., 0] if self.out_dim == 1 else out


QK_GROUPS = ((r'layer_\d+/attn/(q|k)', 'qk'), ('.*', 'rest'))


@base.register
class TransformerModel(base.Model):
  """config.model.kind = 'transformer'; metrics norm_<group> over each group's weights."""

  kind: ClassVar[str] = 'transformer'
  fields: ClassVar[dict] = dict(layers=2, heads=4, dim=64, mlp_ratio=4, causal=False, qk_norm=False, readout='mean',
                                init='uniform', parameterization='standard', layer_groups=QK_GROUPS)

  def build(self):
    m, task = self.config, self.task
    encoding, vocab = task.token_encoding()
    return Transformer(layers=m.layers, heads=m.heads, dim=m.dim, mlp_ratio=m.mlp_ratio, causal=m.causal,
                       qk_norm=m.qk_norm, readout=m.readout, encoding=encoding, vocab=vocab, out_dim=task.output_dim,
                       init_scheme=m.init)

  def check(self, config):
    where = 'model'
    m = self.config
    check_positive_ints(m, ('layers', 'heads', 'dim', 'mlp_ratio'), where)
    if m.dim % m.heads:
      raise ConfigError(f'{where}.heads', f'must divide model.dim={m.dim}, got {m.heads}')
    check_choice_field(m, 'readout', ('mean', 'last'), where)
    for flag in ('causal', 'qk_norm'):
      if not isinstance(m[flag], bool):
        raise ConfigError(f'{where}.{flag}', f'must be True or False, got {m[flag]!r}')
    check_choice_field(m, 'init', base.INIT_SCHEMES, where)
    if m.parameterization != 'standard':
      raise ConfigError(f'{where}.parameterization', 'muP is defined here for MLPs only')

  def norm_names(self):
    return list(dict.fromkeys(group for _, group in self.config.layer_groups))  # the groups, in rule order

  def norms(self, params, groups):
    return base.group_norms(params, groups)

  def activation_floats(self, rows, eval_rows):
    m = self.config
    seq = self.task.example_shape[0]
    per_token_layer = (6 + 2 * m.mlp_ratio) * m.dim + 2 * m.heads * seq  # activations and attention
    return 3 * rows * seq * (m.layers * per_token_layer + 2 * m.dim), eval_rows * seq * per_token_layer
