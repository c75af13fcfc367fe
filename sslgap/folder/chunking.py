"""How a grid's runs are cut into chunks (numpy only): the one geometry that the planner, the chunk
files of a folder and `status` read, so that which runs a chunk holds is computed in one place.

The grid's axes are vmapped (traced) or looped; each subgrid of runs (a static point and a data
seed) has every combination of the traced axes' values, flattened, cut into chunks of chunk_size
in order. A replan's layout lists its chunks explicitly: (subgrid index, offsets, traced runs).
Everything here is computed per subgrid, never per chunk, so a grid of a billion runs costs
nothing to plan.
"""

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class ChunkLayout:
  shape: tuple  # the grid's axis sizes
  traced: tuple  # positions of the vmapped axes
  subgrids: tuple  # per subgrid: ((axis position, value index), ...) of its looped axes
  chunk_size: int
  explicit: tuple = None  # a replan's (subgrid index [C], offsets [C + 1], traced runs)

  @property
  def traced_shape(self):
    return tuple(self.shape[i] for i in self.traced)

  @property
  def runs_per_subgrid(self):
    return int(np.prod(self.traced_shape, dtype=np.int64))

  @property
  def chunks_per_subgrid(self):
    return -(-self.runs_per_subgrid // self.chunk_size)

  @property
  def num_chunks(self):
    if self.explicit is not None:
      return len(self.explicit[0])
    return len(self.subgrids) * self.chunks_per_subgrid

  @property
  def num_runs(self):
    return len(self.subgrids) * self.runs_per_subgrid

  def subgrid_of(self, chunk_id):
    if self.explicit is not None:
      return int(self.explicit[0][chunk_id])
    return chunk_id // self.chunks_per_subgrid

  def chunk(self, chunk_id):
    """(subgrid index, flat traced indices) of a chunk."""
    if self.explicit is not None:
      subgrid_index, offsets, runs = self.explicit
      return int(subgrid_index[chunk_id]), np.asarray(runs[offsets[chunk_id]:offsets[chunk_id + 1]], np.int64)
    start = (chunk_id % self.chunks_per_subgrid) * self.chunk_size
    return chunk_id // self.chunks_per_subgrid, np.arange(start, min(start + self.chunk_size, self.runs_per_subgrid))

  def grid_index(self, subgrid, traced_flat):
    """Flat positions in the grid of a subgrid's traced runs."""
    traced_flat = np.asarray(traced_flat, np.int64)
    index = [None] * len(self.shape)
    for pos, idx in zip(self.traced, np.unravel_index(traced_flat, self.traced_shape)):
      index[pos] = idx
    for pos, idx in self.subgrids[subgrid]:
      index[pos] = np.full(len(traced_flat), idx)
    return np.ravel_multi_index(index, self.shape)

  def positions(self, chunk_id):
    """The grid positions of a chunk's runs, in the order its file holds them."""
    return self.grid_index(*self.chunk(chunk_id))

  def size_of(self, chunk_id):
    if self.explicit is not None:
      return int(self.explicit[1][chunk_id + 1] - self.explicit[1][chunk_id])
    if chunk_id % self.chunks_per_subgrid == self.chunks_per_subgrid - 1:
      return self.runs_per_subgrid - (self.chunks_per_subgrid - 1) * self.chunk_size
    return self.chunk_size

  def subgrid_chunks(self, subgrid, shard=(0, 1)):
    """The chunk ids of a subgrid in a shard, as a range (not for a replan's explicit chunks)."""
    index, count = shard
    start = subgrid * self.chunks_per_subgrid
    return range(start + (index - start) % count, start + self.chunks_per_subgrid, count)

  def subgrid_counts(self, shard=(0, 1)):
    """{subgrid index: number of its chunks in the shard (every shard[1]-th chunk from shard[0])}."""
    if self.explicit is None:
      return {g: len(self.subgrid_chunks(g, shard)) for g in range(len(self.subgrids))}
    subgrids = np.asarray(self.explicit[0], np.int64)[shard[0]::shard[1]]
    return {int(g): int(n) for g, n in zip(*np.unique(subgrids, return_counts=True))}

  def shard_runs(self, shard=(0, 1)):
    """How many runs the chunks of a shard hold."""
    if self.explicit is not None:
      offsets = np.asarray(self.explicit[1], np.int64)
      ids = np.arange(shard[0], self.num_chunks, shard[1])
      return int(np.sum(offsets[ids + 1] - offsets[ids]))
    last = self.size_of(self.chunks_per_subgrid - 1)
    total = 0
    for g in range(len(self.subgrids)):
      chunks = self.subgrid_chunks(g, shard)
      total += len(chunks) * self.chunk_size - (self.chunk_size - last) * ((g + 1) * self.chunks_per_subgrid - 1 in chunks)
    return total

  def of_missing(self, done):
    """A replan's explicit chunks of chunk_size over the runs not yet `done` ([grid size] bool)."""
    subgrid_index, offsets, runs = [], [0], []
    for g in range(len(self.subgrids)):
      traced = np.arange(self.runs_per_subgrid)
      missing = traced[~done[self.grid_index(g, traced)]]
      for start in range(0, missing.size, self.chunk_size):
        subgrid_index.append(g)
        runs.extend(missing[start:start + self.chunk_size].tolist())
        offsets.append(len(runs))
    return np.asarray(subgrid_index, np.int64), np.asarray(offsets, np.int64), np.asarray(runs, np.int64)

  def looped_grid(self, per_subgrid):
    """An array over the grid that only the looped axes change: per_subgrid[g] ([...] values) at each
    subgrid's position, size 1 on the traced axes (it broadcasts against a metric)."""
    values = [np.asarray(v) for v in per_subgrid]
    shape = tuple(1 if i in self.traced else n for i, n in enumerate(self.shape)) + values[0].shape
    out = np.zeros(shape, values[0].dtype)
    for g, fixed in enumerate(self.subgrids):
      index = [0] * len(self.shape)
      for pos, idx in fixed:
        index[pos] = idx
      out[tuple(index)] = values[g]
    return out

  def with_chunks(self, chunk_size, explicit=None):
    return dataclasses.replace(self, chunk_size=int(chunk_size), explicit=explicit)

  def geometry(self):
    """What a plan record keeps to compute any chunk's runs without the config (JSON-ready)."""
    return {'traced': [int(p) for p in self.traced], 'groups': [[[int(p), int(i)] for p, i in g] for g in self.subgrids]}

  @classmethod
  def from_geometry(cls, shape, geometry, chunk_size, explicit=None):
    subgrids = tuple(tuple((int(p), int(i)) for p, i in g) for g in geometry['groups'])
    return cls(tuple(int(s) for s in shape), tuple(int(p) for p in geometry['traced']), subgrids, int(chunk_size),
               explicit)
