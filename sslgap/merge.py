"""Assembles a sweep folder's chunk files into its .npz grid: python -m sslgap.merge DIR."""

import sys

from sslgap import store


def main(argv):
  if len(argv) != 2:
    print('usage: python -m sslgap.merge DIR', file=sys.stderr)
    return 2
  try:
    path, diverged = store.merge(argv[1])
  except store.StoreError as e:
    print(f'merge failed: {e}', file=sys.stderr)
    return 1
  print(f'wrote {path} ({len(diverged)} diverged run(s){": " if diverged else ""}'
        f'{", ".join(map(str, diverged[:5]))}{" ..." if len(diverged) > 5 else ""})')
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv))
