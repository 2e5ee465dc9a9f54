#!/usr/bin/env bash
# The GPU checks of issue 19, as one script for a session that is lent a GPU machine (15 minutes
# of device time in all, so every part has its own time limit and one slow part cannot cost the
# others):
#
#   1. the CUDA tests (`pytest -m gpu`): parity of rnnkit.torch on CUDA with the NumPy reference
#      and with torch.nn, and the captioning model on CUDA;
#   2. the CUDA rows of bench/bench_lstm.py (the fast path against cuDNN's nn.LSTM, floor 1.1x);
#   3. the CUDA rows of bench/bench_scan.py;
#   4. a char-LM on CUDA with AMP (`rnnkit charlm train --device cuda`), then its held-out
#      bits/char (`rnnkit charlm eval`) and a sample.
#
# Usage, from the repository root, with a python that has torch (CUDA), numpy, pytest,
# safetensors and tqdm (the GPU machines' image has them all):
#
#     OUT=/some/dir bash bench/gpu_check.sh   # at most 590 s: the sum of the parts' limits
#
# Everything lands in $OUT (default bench/gpu_out): device.txt, pytest_gpu.txt, bench_lstm.txt,
# bench_scan.txt, charlm.txt; each ends with the exit status of its part. Record what it
# printed, with the date and the device, in bench/README.md. On a machine without CUDA every
# part still runs: the tests skip with their reason and the benchmarks print CPU rows only.
set -u
OUT=${OUT:-bench/gpu_out}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

part() {  # part SECONDS FILE COMMAND...: run COMMAND under a time limit, output and status to FILE
    local limit=$1 file=$2
    shift 2
    echo "== $(date -u +%H:%M:%S) $*" | tee -a "$OUT/$file"
    timeout "$limit" "$@" >>"$OUT/$file" 2>&1
    echo "exit $? (limit ${limit} s)" | tee -a "$OUT/$file"
}

{
    date -u +"%Y-%m-%d %H:%M UTC"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader \
        || echo "nvidia-smi: not found"
    "$PY" -c "import torch; print('torch', torch.__version__, 'CUDA', torch.version.cuda,
'available', torch.cuda.is_available(),
torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
} >"$OUT/device.txt" 2>&1
cat "$OUT/device.txt"

part 140 pytest_gpu.txt "$PY" -m pytest -m gpu -q -rs -p no:cacheprovider tests
part 200 bench_lstm.txt "$PY" bench/bench_lstm.py --H 256 --repeats 3 --threads 0
part 50 bench_scan.txt "$PY" bench/bench_scan.py --quick --repeats 3
ckpt=$(mktemp -d)  # checkpoints stay out of $OUT: only the logs come back
part 130 charlm.txt "$PY" -m rnnkit charlm train --device cuda --model lstm --hidden 512 \
    --layers 2 --seconds 90 --progress lines --out "$ckpt/lstm"
part 40 charlm.txt "$PY" -m rnnkit charlm eval "$ckpt/lstm"
part 30 charlm.txt "$PY" -m rnnkit charlm sample "$ckpt/lstm" --prime "ROMEO:" --length 300 \
    --temperature 0.8 --seed 0
rm -rf "$ckpt"
