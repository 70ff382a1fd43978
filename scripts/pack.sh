#!/usr/bin/env bash
# Usage: scripts/pack.sh [--no-tool] [FEED]
# Packs every EmotionML package (EmotionML, EmotionML.Training, EmotionML.Models, the emotionml tool EmotionML.Cli and
# its linux-x64 package) into FEED (default artifacts/packages), a local folder feed, with symbols (.snupkg).
# --no-tool skips the tool (its package carries ONNX Runtime and libtorch, ~150 MB, and takes the longest).
# The models come from -p:EmlModelsDir (env EML_MODELS_DIR, else $EMOTIONML_SHARED/models, else ../shared/models), checked against
# models/manifest.json. Afterwards the NuGet cache's copies of these package versions are removed, so that the next
# restore (consumer app, notebook, tool install) takes the fresh packages rather than an older build of the same version.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
tool=1
if [ "${1:-}" = "--no-tool" ]; then tool=0; shift; fi
feed=$(mkdir -p "${1:-artifacts/packages}" && cd "${1:-artifacts/packages}" && pwd)
version=$(dotnet msbuild src/EmotionML/EmotionML.csproj -getProperty:Version)
models=()
if [ -n "${EML_MODELS_DIR:-}" ]; then models=("-p:EmlModelsDir=$EML_MODELS_DIR")
elif [ -n "${EMOTIONML_SHARED:-}" ]; then models=("-p:EmlModelsDir=$EMOTIONML_SHARED/models"); fi

ids=(EmotionML EmotionML.Training EmotionML.Models)
[ "$tool" -eq 1 ] && ids+=(EmotionML.Cli EmotionML.Cli.linux-x64)
for id in "${ids[@]}"; do rm -f "$feed/$id.$version.nupkg" "$feed/$id.$version.snupkg"; done

for p in src/EmotionML src/EmotionML.Training packaging/EmotionML.Models; do
  dotnet pack "$p" -c Release -o "$feed" -v q -nologo "${models[@]}" | { grep -Ev '^\s*$' || true; }
done
# The tool builds its linux-x64 package from a publish of its own (RID-specific), so no --no-build here.
[ "$tool" -eq 1 ] && dotnet pack src/EmotionML.Cli -c Release -o "$feed" -v q -nologo | { grep -Ev '^\s*$' || true; }

nuget_root=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
for id in "${ids[@]}"; do rm -rf "$nuget_root/$(echo "$id" | tr '[:upper:]' '[:lower:]')/$version"; done
for id in "${ids[@]}"; do
  [ -f "$feed/$id.$version.nupkg" ] || { echo "pack: $feed/$id.$version.nupkg was not made" >&2; exit 1; }
done
echo "packed ${ids[*]} $version into $feed"
