#!/usr/bin/env bash
# The CUDA checks in one go, meant to finish within 5 minutes on one GPU: the tests marked `cuda`, then
# bench/bench_cuda.py (options are passed on to it). Without CUDA the tests skip and the bench says so.
# For the NVML test install the optional extra first (pip install -e ".[gpu]"); without it that test skips.
# Usage: bench/gpu_check.sh [--epochs N] [--rounds N] [--batches 256,1024]
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
python3 -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "device",
            torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")'
status=0
timeout 150 python3 -m pytest -q -rs -m cuda || status=$?
timeout 240 python3 bench/bench_cuda.py "$@" || status=$?
exit "$status"
