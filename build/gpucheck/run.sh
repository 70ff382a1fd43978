#!/bin/bash
# GPU check of the TorchSharp modules (not part of the solution).
#   here:    build/gpucheck/run.sh publish   -> artifacts/gpucheck.tar.gz (~37 MB: self-contained, no libtorch)
#   device:  build/gpucheck/run.sh device    (carry artifacts/gpucheck.tar.gz) -> $OUT/gpucheck.txt
# On the device the machine's own PyTorch libtorch is loaded through EMOTIONML_LIBTORCH_DIR (TorchRuntime).
# Smoke test on a CPU machine: GPUCHECK_FALLBACK=1 EMOTIONML_LIBTORCH_DIR=<libtorch-cpu native dir> artifacts/gpucheck-pub/GpuCheck
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
case "$1" in
  publish)
    dotnet publish "$root/build/gpucheck/GpuCheck.csproj" -c Release -o "$root/artifacts/gpucheck-pub"
    dotnet "$root/build/EmotionML.BuildTools/bin/Release/net10.0/EmotionML.BuildTools.dll" weaken-glibcxx "$root/artifacts/gpucheck-pub/libLibTorchSharp.so"
    tar czf "$root/artifacts/gpucheck.tar.gz" -C "$root/artifacts" gpucheck-pub ;;
  device)
    tar xzf "$root/artifacts/gpucheck.tar.gz" -C /tmp
    export EMOTIONML_LIBTORCH_DIR=$(python3 -c "import torch,os;print(os.path.dirname(torch.__file__)+'/lib')")
    nvidia-smi --query-gpu=name,memory.total --format=csv
    timeout 400 /tmp/gpucheck-pub/GpuCheck 2>&1 | tee "${OUT:-/tmp}/gpucheck.txt" ;;
  *) echo "usage: $0 publish|device"; exit 2 ;;
esac
