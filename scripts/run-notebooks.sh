#!/usr/bin/env bash
# Usage: scripts/run-notebooks.sh [NOTEBOOK.ipynb ...]   (default: every notebooks/*.ipynb)
# Executes the notebooks headless with the .NET Interactive C# kernel; exits 1 if any fails, naming it.
# Installs what is missing (idempotent; Debian 12, as root or with sudo):
#  - apt: jupyter-nbconvert python3-nbclient jupyter-client jupyter-core, fonts-dejavu-core (plot text)
#  - dotnet tool Microsoft.dotnet-interactive (pinned) and its Jupyter kernels
#  - a Release build of src/EmotionML.Experiments (with EmotionML and EmotionML.Training) when missing or older than the
#    sources (notebooks that #r its DLLs)
#  - the local package feed artifacts/packages (scripts/pack.sh --no-tool) when missing or older than the sources
#    (notebooks that load the library with #r "nuget: EmotionML, ..."; notebooks/nuget.config lists the feed)
#  - the NuGet-cache copy of TorchSharp's native library patched for Debian 12 (scripts/setup.sh)
# Environment: NOTEBOOK_TIMEOUT (seconds per cell, default 600); EMOTIONML_NOTEBOOK_OUT (where the notebooks write
# their plot PNGs; default a temp folder); executed notebooks go to a temp folder that is printed.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DEBIAN_FRONTEND=noninteractive
DOTNET_INTERACTIVE_VERSION=1.0.712001
export PATH="$PATH:$HOME/.dotnet/tools"
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo

fail() { echo "run-notebooks: $*" >&2; exit 1; }

# 1. apt packages (Debian's jupyter runs under /usr/bin/python3, whatever python3 is first on PATH).
need=()
for p in jupyter-nbconvert python3-nbclient jupyter-client jupyter-core fonts-dejavu-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "run-notebooks: installing ${need[*]}"
  $SUDO apt-get update -qq || fail "apt-get update failed"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null || fail "apt-get install failed"
fi
JUPYTER=/usr/bin/jupyter
[ -x "$JUPYTER" ] || JUPYTER=$(command -v jupyter) || fail "jupyter not found"

# 2. dotnet-interactive (the kernel is started as `dotnet interactive`, so ~/.dotnet/tools must be on PATH).
have=$(dotnet tool list -g 2>/dev/null | awk 'tolower($1)=="microsoft.dotnet-interactive" {print $2}')
if [ "$have" != "$DOTNET_INTERACTIVE_VERSION" ]; then
  [ -n "$have" ] && dotnet tool uninstall -g Microsoft.dotnet-interactive >/dev/null
  dotnet tool install -g Microsoft.dotnet-interactive --version "$DOTNET_INTERACTIVE_VERSION" >/dev/null || fail "dotnet tool install Microsoft.dotnet-interactive $DOTNET_INTERACTIVE_VERSION failed"
fi
if ! "$JUPYTER" kernelspec list 2>/dev/null | grep -q '\.net-csharp'; then
  dotnet-interactive jupyter install >/dev/null || fail "dotnet-interactive jupyter install failed"
fi

# 3. The library build the notebooks reference, and the patched TorchSharp native library in the NuGet cache.
dll=src/EmotionML.Experiments/bin/Release/net10.0/EmotionML.Experiments.dll
if [ ! -f "$dll" ] || [ -n "$(find src/EmotionML src/EmotionML.Training src/EmotionML.Experiments \( -name '*.cs' -o -name '*.csproj' \) -newer "$dll" -not -path '*/obj/*' -not -path '*/bin/*' 2>/dev/null | head -n 1)" ]; then
  bash scripts/setup.sh >/dev/null || fail "scripts/setup.sh failed"
  dotnet build src/EmotionML.Experiments/EmotionML.Experiments.csproj -c Release -v q -nologo >/dev/null || fail "dotnet build -c Release failed"
else
  tools=build/EmotionML.BuildTools/bin/Release/net10.0/EmotionML.BuildTools.dll
  lib="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')/torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so"
  if [ -f "$tools" ] && [ -f "$lib" ]; then dotnet "$tools" weaken-glibcxx "$lib" >/dev/null || fail "patching $lib failed"
  else bash scripts/setup.sh >/dev/null || fail "scripts/setup.sh failed"; fi
fi

# 3b. The local feed the "#r nuget: EmotionML" notebooks restore from (pack.sh also drops stale copies from the NuGet cache).
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' Directory.Build.props | head -n 1)
feed_pkg=artifacts/packages/EmotionML.$version.nupkg
mkdir -p artifacts/packages   # notebooks/nuget.config lists it; NuGet fails on a missing local source
if grep -lq '#r \\"nuget: EmotionML, ' notebooks/*.ipynb 2>/dev/null; then
  for p in EmotionML EmotionML.Training EmotionML.Models; do [ -f "artifacts/packages/$p.$version.nupkg" ] || rm -f "$feed_pkg"; done
  if [ ! -f "$feed_pkg" ] || [ -n "$(find src/EmotionML src/EmotionML.Training packaging Directory.Build.props Directory.Build.targets Directory.Packages.props \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' -o -name '*.md' \) -newer "$feed_pkg" -not -path '*/obj/*' -not -path '*/bin/*' 2>/dev/null | head -n 1)" ]; then
    bash scripts/pack.sh --no-tool >/dev/null || fail "scripts/pack.sh --no-tool failed"
  fi
fi

# 4. Execute.
out=$(mktemp -d -t emotionml-notebooks-XXXXXX)
export EMOTIONML_NOTEBOOK_OUT="${EMOTIONML_NOTEBOOK_OUT:-$out/plots}"
mkdir -p "$EMOTIONML_NOTEBOOK_OUT"
failed=()
shopt -s nullglob
if [ $# -gt 0 ]; then notebooks=("$@"); else notebooks=(notebooks/*.ipynb); fi
[ ${#notebooks[@]} -gt 0 ] || fail "no notebooks in notebooks/"
for nb in "${notebooks[@]}"; do
  name=$(basename "$nb")
  start=$SECONDS
  if "$JUPYTER" nbconvert --to notebook --execute --ExecutePreprocessor.timeout="${NOTEBOOK_TIMEOUT:-600}" \
       --output-dir "$out" "$nb" >"$out/${name%.ipynb}.log" 2>&1; then
    echo "notebook passed: $name ($((SECONDS - start)) s)"
  else
    echo "notebook FAILED: $name ($((SECONDS - start)) s); the error from $out/${name%.ipynb}.log:"
    log="$out/${name%.ipynb}.log"
    if grep -q 'CellExecutionError: ' "$log"; then sed -n '/CellExecutionError: /,$p' "$log" | grep -v '^\s*$' | head -n 30 | sed 's/^/    /'
    else grep -v '^\s*$' "$log" | tail -n 25 | sed 's/^/    /'; fi
    failed+=("$name")
  fi
done
echo "executed notebooks: $out; plots: $EMOTIONML_NOTEBOOK_OUT"
if [ ${#failed[@]} -gt 0 ]; then
  echo "notebooks failed: ${failed[*]}"
  exit 1
fi
echo "notebooks: all ${#notebooks[@]} passed"
