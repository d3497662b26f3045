#!/usr/bin/env bash
# The GPU figures in one run, for a bare H200 machine whose image has PyTorch,
# transformers, peft and accelerate but no other dependency of the harness and no
# network. Runs from the repository root with PYTHONPATH=. and finishes in under
# 8 minutes (each section has its own time limit):
#
#   influence          1B-class Llama (Llama-3.2-1B shape, random weights, bf16),
#                      1,024 tokens, all-linear: samples/s and the fraction of the fast
#                      path's FLOP floor reached at 790 TFLOP/s (goal: at least 40%)
#   influence_refs     the same model, 4 samples: the fast path against the per-sample
#                      loop and vmap (time and agreement)
#   train_lora         the harness's SFTTrainer, LoRA r=8 q/k/v: tokens/s and MFU (6N)
#   train_full         the same, full fine-tuning (fp32 master weights, bf16 autocast)
#   real_study         `diq demo --real` on the GPU, only with DIQ_GPU_REAL_STUDY=1
#                      and where this tree's `diq demo` has --real and its dependencies
#
#   PYTHON=.venv/bin/python bash bench/gpu.sh --prepare   # here, with PyPI: bench/wheels/
#   bash bench/gpu.sh [--out DIR]                         # there (carry bench/wheels)
#   bash bench/gpu.sh --tiny [--out DIR]                  # the same sections on a CPU
#
# --prepare downloads, for the image's Python (CPython 3.12, x86-64 Linux), the wheels
# the image lacks, pinned as in constraints.txt (plus a datasets 4.x for an image whose
# pyarrow is older than datasets 5 wants); they are never committed (.gitignore). On the
# GPU machine pip installs from them only what is missing or too old, offline.
# --tiny runs every section on the CPU with tiny shapes (the test suite does).
# Output, in --out (else $OUT, else bench/out): gpu.json (environment, each section's
# status, seconds and figures, the goals), gpu.log (every section's output) and
# pip.log. A section that fails or runs past its limit is recorded; the rest still run.
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PYTHON=${PYTHON:-python3}
WHEELS=bench/wheels
PEAK_TFLOPS=790
MODE=gpu
OUT_DIR=${OUT:-bench/out}
# the distributions bench/influence.py and bench/train.py need beyond the image
WHEEL_NAMES=(transformers trl datasets dill multiprocess pydantic pydantic_core
  annotated-types typing-inspection typing_extensions)

while [ $# -gt 0 ]; do
  case $1 in
    --prepare) MODE=prepare ;;
    --tiny) MODE=tiny ;;
    --out) OUT_DIR=${2:?--out needs a directory}; shift ;;
    -h | --help) sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/gpu.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

prepare() {
  local target=(--no-deps --only-binary=:all: --disable-pip-version-check --python-version 3.12
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
    --platform manylinux2014_x86_64 --dest "$WHEELS")
  mkdir -p "$WHEELS"
  for name in "${WHEEL_NAMES[@]}"; do
    local pin
    pin=$(grep -i "^${name}==" constraints.txt) || { echo "no pin for $name in constraints.txt" >&2; exit 1; }
    "$PYTHON" -m pip download -q "${target[@]}" "$pin" || exit 1
  done
  "$PYTHON" -m pip download -q "${target[@]}" "datasets>=4.7,<5" || exit 1
  du -sh "$WHEELS"
}

install_wheels() {
  # The ranges pyproject.toml asks for; pip keeps whatever installed version meets them.
  local wanted
  mapfile -t wanted < <(grep -oE '"(transformers|trl|datasets|pydantic)[<>=,.0-9]*"' pyproject.toml | tr -d '"')
  if [ ! -d "$WHEELS" ]; then
    echo "no $WHEELS: nothing to install (bench/gpu.sh --prepare makes it)" > "$OUT_DIR/pip.log"
    return
  fi
  "$PYTHON" -m pip install --no-index --find-links "$WHEELS" --disable-pip-version-check \
    "${wanted[@]}" > "$OUT_DIR/pip.log" 2>&1 \
    || echo "pip could not install every wheel (see pip.log); sections needing them will fail"
}

LOGS=$(mktemp -d)
trap 'rm -rf "$LOGS"' EXIT
SECTIONS=()

section() { # name, time limit in seconds, command...
  local name=$1 limit=$2 start=$SECONDS status
  shift 2
  SECTIONS+=("$name")
  echo "[$name] $*" | tee -a "$OUT_DIR/gpu.log"
  timeout --kill-after=10 "$limit" "$@" > "$LOGS/$name.log" 2>&1
  status=$?
  echo "$status $((SECONDS - start)) $limit" > "$LOGS/$name.status"
  cat "$LOGS/$name.log" >> "$OUT_DIR/gpu.log"
  echo "[$name] exit $status after $((SECONDS - start)) s" | tee -a "$OUT_DIR/gpu.log"
}

real_study() { # the slot for the real study; its own guard says why it did not run
  if [ "${DIQ_GPU_REAL_STUDY:-0}" != 1 ]; then
    echo "skipped: set DIQ_GPU_REAL_STUDY=1 to run it" > "$LOGS/real_study.skipped"
  elif ! "$PYTHON" -m harness.cli demo --help 2> /dev/null | grep -q -- "--real"; then
    echo "skipped: this tree's diq demo has no --real, or its dependencies are missing" \
      > "$LOGS/real_study.skipped"
  else
    section real_study 420 "$PYTHON" -m harness.cli demo --real --out "$LOGS/real-study"
    return
  fi
  SECTIONS+=(real_study)
}

if [ "$MODE" = prepare ]; then
  prepare
  exit 0
fi
mkdir -p "$OUT_DIR"
: > "$OUT_DIR/gpu.log"
if [ "$MODE" = gpu ]; then
  install_wheels
  INFLUENCE=(bench/influence.py --preset 1b --device cuda --params all-linear --seq-len 1024
    --threads 16 --no-memory --peak-tflops "$PEAK_TFLOPS" --json)
  TRAIN=(bench/train.py --gpu --preset 1b --device cuda --seq-len 1024 --batch-size 8
    --steps 10 --warmup 3 --peak-tflops "$PEAK_TFLOPS" --json)
  section influence 120 "$PYTHON" "${INFLUENCE[@]}" --batch-size 16 --rounds 5
  section influence_refs 120 "$PYTHON" "${INFLUENCE[@]}" --batch-size 4 --rounds 2 \
    --references --skip jvp,train_step
  section train_lora 90 "$PYTHON" "${TRAIN[@]}"
  section train_full 120 "$PYTHON" "${TRAIN[@]}" --full
  real_study
else
  echo "tiny mode: nothing installed" > "$OUT_DIR/pip.log"
  TRAIN=(bench/train.py --gpu --preset tiny --device cpu --seq-len 32 --batch-size 2
    --steps 1 --warmup 1 --records 4 --json)
  # the tiny preset keeps the per-sample loop and vmap: one run covers influence_refs
  section influence 120 "$PYTHON" bench/influence.py --preset tiny --device cpu --seq-len 32 \
    --prompt-tokens 8 --batch-size 2 --validation-size 2 --rounds 1 --skip jvp --no-memory --json
  section train_lora 120 "$PYTHON" "${TRAIN[@]}"
  section train_full 120 "$PYTHON" "${TRAIN[@]}" --full
  real_study
fi
"$PYTHON" bench/gpu_summary.py --mode "$MODE" --logs "$LOGS" --peak-tflops "$PEAK_TFLOPS" \
  "${SECTIONS[@]}" > "$OUT_DIR/gpu.json"
echo "figures: $OUT_DIR/gpu.json"
