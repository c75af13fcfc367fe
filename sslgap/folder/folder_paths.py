"""A sweep on disk: where each file of an output folder lies (sslgap.plan_file, chunk_files,
leases and merging read and write them).

Layout of an output folder:
  <name>.npz, <name>.png      the merged grid and its figure
  chunks/plan.json            config, axes and chunk layouts: every shard and resume agrees on it
  chunks/chunk_000042.npz     the grid positions and metrics of one finished chunk (layout 0)
  chunks/chunk_r1_000007.npz  a chunk of layout 1, made by --replan from the runs still missing
  chunks/layout_1.npz         which runs each chunk of layout 1 holds
  chunks/*.lease              a chunk some process is computing (refreshed while it runs)

Files are created atomically and durably (sslgap.files). plan.json is created once, by the first
process (an atomic exclusive create, so shards that start together agree). A chunk file is
validated before it counts as done: a damaged one is reported by name, set aside and recomputed.
Chunk files carry a hash of the config (without its `engine`, `plot` and `claims` sections,
which do not change results); merging refuses any chunk whose hash differs.
"""

import os

CHUNK_DIR = 'chunks'
PLAN_FILE = 'plan.json'


def chunk_dir(out):
  return os.path.join(out, CHUNK_DIR)


def plan_path(out):
  return os.path.join(chunk_dir(out), PLAN_FILE)


def chunk_name(layout, chunk_id):
  return f'chunk_{chunk_id:06d}' if layout == 0 else f'chunk_r{layout}_{chunk_id:06d}'


def chunk_path(out, chunk_id, layout=0):
  return os.path.join(chunk_dir(out), chunk_name(layout, chunk_id) + '.npz')


def layout_path(out, layout):
  return os.path.join(chunk_dir(out), f'layout_{layout}.npz')


def merged_paths(out, name):
  return os.path.join(out, f'{name}.npz'), os.path.join(out, f'{name}.png')


def lease_path(out, layout, chunk_id):
  return os.path.join(chunk_dir(out), chunk_name(layout, chunk_id) + '.lease')


def partial_path(out, chunk_id, layout=0):
  """A chunk in flight: its checkpoint (state and metrics so far), until its chunk file is written."""
  return os.path.join(chunk_dir(out), chunk_name(layout, chunk_id) + '.partial.npz')
