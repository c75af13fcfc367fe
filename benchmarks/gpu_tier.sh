#!/usr/bin/env bash
# One tier's experiments on one GPU, each in its own process at once, their folders packed into one file.
#
#   bash benchmarks/gpu_tier.sh OUT SECONDS [SCALE] [ID ...]
#   DESIGN_BUDGET=5m bash benchmarks/gpu_tier.sh OUT SECONDS design ID ...
#
# SCALE design runs `python -m sslgap.design --only ID --budget DESIGN_BUDGET` for each ID (its stages
# sized by this machine's measured speed), into designs/<ID> as reproduce --scale design reads them.
# A tier of small Transformer sweeps is mostly compiling: on an H200 each experiment computed in 5
# to 13 s a chunk, and each of its kernels took about 50 s of the whole machine to compile (docs/
# GPU_MEASURED.md). Processes let several experiments finish in one call (memory is taken as needed,
# not preallocated, so they share the GPU); they do not make compiling cheaper, since the compiles
# share the host's cores: 11 at once finished 3 one-kernel experiments in 450 s, 3 at once 5 kernels
# in 268 s. Name a few experiments a call and give SECONDS about a minute per kernel of them. Every process stops after SECONDS as a
# signal stops any sweep: finished chunks are kept and the folder resumes anywhere, on a CPU too
# (README: what is bitwise). The folders are laid out as reproduce writes them (<scale>/<id>), so
#
#   tar xzf OUT/tier.tgz -C results && python -m sslgap.reproduce --scale SCALE --out results
#
# reports them, running on this machine only what the GPU did not finish. OUT/tier.txt says what
# each process did; OUT/device.txt names the device, the commit and the commands. The folders are packed
# once every process has stopped: keep SECONDS well inside any limit the whole command runs under.
# Each process sizes its chunks against the whole GPU; a chunk that runs out of memory runs in halves.
set -uo pipefail
OUT=${1:?usage: bash benchmarks/gpu_tier.sh OUT SECONDS [SCALE] [ID ...]}
SECONDS_EACH=${2:?usage: bash benchmarks/gpu_tier.sh OUT SECONDS [SCALE] [ID ...]}
SCALE=${3:-medium}
shift $(( $# < 3 ? $# : 3 ))
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)  # before the cd below, so that a relative OUT is where the caller meant
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
work=$(mktemp -d)
folder=$([ "$SCALE" = design ] && echo designs || echo "$SCALE")  # where reproduce --scale SCALE looks
mkdir -p "$work/$folder" "$work/logs"

python - "$SCALE" "$@" > "$work/commands" <<'EOF' || exit 2  # its one-line error said why
import os, sys
from sslgap.paper import catalog
scale, ids = sys.argv[1], set(sys.argv[2:])
if scale == 'design':  # a design per id named (each costs a pilot and a confirmation): none by default
  if not ids:
    sys.exit('error: name the experiments to design (bash benchmarks/gpu_tier.sh OUT SECONDS design ID ...)')
  for e in catalog.find(sorted(ids)):
    print(e.id, f'python -m sslgap.design --only {e.id} --budget {os.environ.get("DESIGN_BUDGET", "5m")}')
tier = catalog.for_scale(scale) if scale != 'design' else ()
unknown = sorted(ids - {e.id for e in tier}) if scale != 'design' else []
if unknown:
  sys.exit(f'error: not at the {scale} scale: {", ".join(unknown)}')
for e in tier:
  if not ids or e.id in ids:
    print(e.id, e.command(scale))
EOF
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo 'no nvidia-smi';
  python -c 'import jax; print(jax.__version__, jax.devices())'; git rev-parse HEAD 2>/dev/null
  git status --short 2>/dev/null; echo "SECONDS=$SECONDS_EACH SCALE=$SCALE DESIGN_BUDGET=${DESIGN_BUDGET:-}";
  cat "$work/commands"; } > "$OUT/device.txt" 2>&1

start=$(date +%s)
while read -r id command; do
  ( t0=$(date +%s)
    timeout -s TERM -k 30 "$SECONDS_EACH" $command --out="$work/$folder$([ "$SCALE" = design ] || echo "/$id")" --quiet < /dev/null \
      > "$work/logs/$id.log" 2>&1
    echo "$id rc=$? $(( $(date +%s) - t0 )) s" >> "$work/logs/tier.txt" ) &
done < "$work/commands"
wait
echo "all done in $(( $(date +%s) - start )) s" >> "$work/logs/tier.txt"
cp "$work/logs/tier.txt" "$OUT/tier.txt"
tar czf "$OUT/tier.tgz" -C "$work" "$folder" logs
cat "$OUT/tier.txt"
