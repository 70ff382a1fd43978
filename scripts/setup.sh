#!/usr/bin/env bash
# Installs what EmotionML needs on a fresh Debian 12 machine with the .NET 10 SDK: ffmpeg (decoding).
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
dotnet restore EmotionML.sln >/dev/null
echo "setup ok"
