#!/usr/bin/env bash
# Sets up a fresh Debian 12 machine with the .NET 10 SDK for EmotionML:
#  - apt: ffmpeg (media decoding); for the benchmarks' peers (tests/EmotionML.Benchmarks): libgtk-3-0 (OpenCV's native
#    library needs it), python3-scipy (scipy.signal.stft) and python3-aubio (the acoustic functionals' peer), both run
#    by /usr/bin/python3
#  - dotnet restore
#  - TorchSharp's native library in the NuGet cache made loadable on Debian 12 (its GLIBCXX_3.4.32 need marked weak),
#    for programs and notebooks that load it from there; project builds patch their own copies.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
dpkg -s libgtk-3-0 >/dev/null 2>&1 || need+=(libgtk-3-0)
/usr/bin/python3 -c "import scipy.signal" >/dev/null 2>&1 || need+=(python3-scipy)
/usr/bin/python3 -c "import aubio" >/dev/null 2>&1 || need+=(python3-aubio)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
dotnet restore EmotionML.sln >/dev/null
dotnet build build/EmotionML.BuildTools/EmotionML.BuildTools.csproj -c Release -v q >/dev/null
nuget_root=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
lib="$nuget_root/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so"
[ -f "$lib" ] && dotnet build/EmotionML.BuildTools/bin/Release/net10.0/EmotionML.BuildTools.dll weaken-glibcxx "$lib" >/dev/null
echo "setup ok"
