"""How a grid's runs are cut into chunks (numpy only): the one geometry that the planner, the chunk
files of a folder and `status` read, so that which runs a chunk holds is computed in one place.

The grid's axes are vmapped (traced) or looped; each group of runs (a static point and a data
seed) has every combination of the traced axes' values, flattened, cut into chunks of chunk_size
in order. A replan's layout lists its chunks explicitly: (group index, offsets, traced runs).
Everything here is computed per group, never per chunk, so a grid of a billion runs costs
nothing to plan.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ChunkLayout:
  shape: tuple  # the grid's axis sizes
  traced: tuple  # positions of the vmapped axes
  groups: tuple  # per group: ((axis position, value index), ...) of its looped axes
  chunk_size: int
  explicit: tuple = None  # a replan's (group index [C], offsets [C + 1], traced runs)

  @property
  def traced_shape(self):
    return tuple(self.shape[i] for i in self.traced)

  @property
  def runs_per_group(self):
    return int(np.prod(self.traced_shape, dtype=np.int64))

  @property
  def chunks_per_group(self):
    return -(-self.runs_per_group // self.chunk_size)

  @property
  def num_chunks(self):
    if self.explicit is not None:
      return len(self.explicit[0])
    return len(self.groups) * self.chunks_per_group

  @property
  def num_runs(self):
    return len(self.groups) * self.runs_per_group

  def group_of(self, chunk_id):
    if self.explicit is not None:
      return int(self.explicit[0][chunk_id])
    return chunk_id // self.chunks_per_group

  def chunk(self, chunk_id):
    """(group index, flat traced indices) of a chunk."""
    if self.explicit is not None:
      group_index, offsets, runs = self.explicit
      return int(group_index[chunk_id]), np.asarray(runs[offsets[chunk_id]:offsets[chunk_id + 1]], np.int64)
    start = (chunk_id % self.chunks_per_group) * self.chunk_size
    return chunk_id // self.chunks_per_group, np.arange(start, min(start + self.chunk_size, self.runs_per_group))

  def grid_index(self, group, traced_flat):
    """Flat positions in the grid of a group's traced runs."""
    traced_flat = np.asarray(traced_flat, np.int64)
    index = [None] * len(self.shape)
    for pos, idx in zip(self.traced, np.unravel_index(traced_flat, self.traced_shape)):
      index[pos] = idx
    for pos, idx in self.groups[group]:
      index[pos] = np.full(len(traced_flat), idx)
    return np.ravel_multi_index(index, self.shape)

  def positions(self, chunk_id):
    """The grid positions of a chunk's runs, in the order its file holds them."""
    return self.grid_index(*self.chunk(chunk_id))

  def size_of(self, chunk_id):
    if self.explicit is not None:
      return int(self.explicit[1][chunk_id + 1] - self.explicit[1][chunk_id])
    if chunk_id % self.chunks_per_group == self.chunks_per_group - 1:
      return self.runs_per_group - (self.chunks_per_group - 1) * self.chunk_size
    return self.chunk_size

  def group_chunks(self, group, shard=(0, 1)):
    """The chunk ids of a group in a shard, as a range (not for a replan's explicit chunks)."""
    index, count = shard
    start = group * self.chunks_per_group
    return range(start + (index - start) % count, start + self.chunks_per_group, count)

  def group_counts(self, shard=(0, 1)):
    """{group index: number of its chunks in the shard (every shard[1]-th chunk from shard[0])}."""
    if self.explicit is None:
      return {g: len(self.group_chunks(g, shard)) for g in range(len(self.groups))}
    groups = np.asarray(self.explicit[0], np.int64)[shard[0]::shard[1]]
    return {int(g): int(n) for g, n in zip(*np.unique(groups, return_counts=True))}

  def shard_runs(self, shard=(0, 1)):
    """How many runs the chunks of a shard hold."""
    if self.explicit is not None:
      offsets = np.asarray(self.explicit[1], np.int64)
      ids = np.arange(shard[0], self.num_chunks, shard[1])
      return int(np.sum(offsets[ids + 1] - offsets[ids]))
    last = self.size_of(self.chunks_per_group - 1)
    total = 0
    for g in range(len(self.groups)):
      chunks = self.group_chunks(g, shard)
      total += len(chunks) * self.chunk_size - (self.chunk_size - last) * ((g + 1) * self.chunks_per_group - 1 in chunks)
    return total

  def of_missing(self, done):
    """A replan's explicit chunks of chunk_size over the runs not yet `done` ([grid size] bool)."""
    group_index, offsets, runs = [], [0], []
    for g in range(len(self.groups)):
      traced = np.arange(self.runs_per_group)
      missing = traced[~done[self.grid_index(g, traced)]]
      for start in range(0, missing.size, self.chunk_size):
        group_index.append(g)
        runs.extend(missing[start:start + self.chunk_size].tolist())
        offsets.append(len(runs))
    return np.asarray(group_index, np.int64), np.asarray(offsets, np.int64), np.asarray(runs, np.int64)

  def looped_grid(self, per_group):
    """An array over the grid that only the looped axes change: per_group[g] ([...] values) at each
    group's position, size 1 on the traced axes (it broadcasts against a metric)."""
    values = [np.asarray(v) for v in per_group]
    shape = tuple(1 if i in self.traced else n for i, n in enumerate(self.shape)) + values[0].shape
    out = np.zeros(shape, values[0].dtype)
    for g, fixed in enumerate(self.groups):
      index = [0] * len(self.shape)
      for pos, idx in fixed:
        index[pos] = idx
      out[tuple(index)] = values[g]
    return out

  def with_chunks(self, chunk_size, explicit=None):
    return dataclasses.replace(self, chunk_size=int(chunk_size), explicit=explicit)

  def geometry(self):
    """What a plan record keeps to compute any chunk's runs without the config (JSON-ready)."""
    return {'traced': [int(p) for p in self.traced], 'groups': [[[int(p), int(i)] for p, i in g] for g in self.groups]}

  @classmethod
  def from_geometry(cls, shape, geometry, chunk_size, explicit=None):
    groups = tuple(tuple((int(p), int(i)) for p, i in g) for g in geometry['groups'])
    return cls(tuple(int(s) for s in shape), tuple(int(p) for p in geometry['traced']), groups, int(chunk_size),
               explicit)
