#!/usr/bin/env bash
# The first-GPU check: more than 10 minutes on one NVIDIA H200 (give it 12) (docs/GPU_MEASURED.md), JSON under OUT.
#
#   bash benchmarks/gpu_check.sh OUT
#
# 1. the device and versions                                  OUT/device.json
# 2. benchmarks/bench_sweep.py on every workload (--json)     OUT/bench.json, OUT/bench.txt
# 3. one rehearsed chunk of the paper Figure 6 preset at both matmul precisions, with measured
#    memory against the estimate and the projected full-sweep time
#                                                             OUT/fig6_<precision>.json (+ .log)
# 4. measured peak memory of chunks against the engine's estimate
#                                                             OUT/memory.txt
# 5. the plan of the paper Figure 6 sweep on this device      OUT/plan.txt
# 6. run-steps/s of the paper Figure 6 and Transformer Figure 1 presets at call widths 1,024 to
#    65,536, with and without train.scan_unroll, with XLA's command buffers for while loops off
#    and on, and the fastest of each (benchmarks/bench_widths.py)
#                                                             OUT/widths.json, OUT/widths.txt
# What it measured goes into docs/GPU_MEASURED.md (with the device's name and the date) and
# the fastest settings into the defaults (engine.max_chunk_size, train.scan_unroll). On a CPU the
# script runs end to end with shorter settings and skips only what needs an accelerator
# (nvidia-smi, TF32, command buffers), saying so in OUT/device.json and OUT/widths.txt.
set -uo pipefail
OUT=${1:?usage: bash benchmarks/gpu_check.sh OUT}
cd "$(dirname "$0")/.."
mkdir -p "$OUT" || exit 2
export PYTHONUNBUFFERED=1
status=0

platform=$(python -c 'import sslgap, jax; print(jax.default_backend())' 2>/dev/null) || {
  echo "error: python cannot import sslgap and jax (install the project first: pip install -e '.[cuda]')" >&2; exit 2; }
echo "platform: $platform"

python - "$OUT/device.json" "$platform" <<'EOF' || status=1
import json, platform, subprocess, sys
import sslgap, jax, jaxlib, flax, optax, numpy
out, backend = sys.argv[1], sys.argv[2]
device = jax.devices()[0]
info = {
    'backend': backend, 'device_kind': device.device_kind, 'device_count': jax.device_count(),
    'versions': {'sslgap': sslgap.__version__, 'jax': jax.__version__, 'jaxlib': jaxlib.__version__,
                 'flax': flax.__version__, 'optax': optax.__version__, 'numpy': numpy.__version__,
                 'python': platform.python_version()},
    'memory_stats': device.memory_stats() if backend != 'cpu' else None,
    'skipped': [],
}
if backend == 'gpu':
  try:
    info['nvidia_smi'] = subprocess.run(['nvidia-smi', '--query-gpu=name,memory.total,driver_version,clocks.max.sm',
                                         '--format=csv'], capture_output=True, text=True, timeout=30).stdout
  except (OSError, subprocess.SubprocessError) as e:
    info['nvidia_smi'] = f'unavailable: {e}'
else:
  info['skipped'] = ['nvidia-smi (no GPU)', 'allocator statistics (no accelerator)',
                     'tensorfloat32 differs from highest only on an accelerator: both still run',
                     'short settings: bench_sweep --rounds=1 --steps=200']
json.dump(info, open(out, 'w'), indent=1, default=str)
print(json.dumps(info, indent=1, default=str))
EOF

if [ "$platform" = cpu ]; then bench_args=(--rounds=1 --steps=200); else bench_args=(--rounds=3 --steps=1000); fi
echo "== bench_sweep ${bench_args[*]}"
python benchmarks/bench_sweep.py "${bench_args[@]}" --json "$OUT/bench.json" 2>&1 | tee "$OUT/bench.txt" || status=1

for precision in highest tensorfloat32; do
  echo "== rehearsal of the paper Figure 6 preset, matmul_precision=$precision"
  folder=$(mktemp -d)
  python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py \
      --config.train.matmul_precision=$precision --max_chunks=1 --out="$folder" 2>&1 | tee "$OUT/fig6_$precision.log" \
      || status=1
  cp "$folder/rehearsal.json" "$OUT/fig6_$precision.json" 2>/dev/null || status=1
  rm -rf "$folder"
done

echo "== memory: measured peak against the estimate"
if [ "$platform" = cpu ]; then sizes=256,1024; else sizes=4096,16384,65536; fi
python benchmarks/bench_memory.py --config=sweeps/init_scale_heatmap.py --chunk_sizes=$sizes 2>&1 \
    | tee "$OUT/memory.txt" || status=1

echo "== plan of the paper Figure 6 sweep on this device"
python experiments/init_scale_heatmap.py --config=sweeps/init_scale_heatmap.py --dry_run 2>&1 | tee "$OUT/plan.txt" \
    || status=1

echo "== call widths x scan unrolling x command buffers"
if [ "$platform" = cpu ]; then widths_args=(--steps=10 --repeats=1 --budget_s=180); else widths_args=(--budget_s=200); fi
python benchmarks/bench_widths.py "${widths_args[@]}" --json="$OUT/widths.json" 2>&1 | tee "$OUT/widths.txt" || status=1

echo "wrote $OUT (exit status $status)"
exit $status
