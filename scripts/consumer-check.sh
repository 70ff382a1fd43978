#!/usr/bin/env bash
# Usage: scripts/consumer-check.sh      (after a Release build of the solution: dotnet build EmotionML.sln -c Release)
# EmotionML used the way a package user uses it. Prints one "consumer check passed: X" / "consumer check FAILED: X" line
# per check (.ci/run counts them) and exits 1 if any failed.
#  1. pack: every package into the local feed artifacts/packages (scripts/pack.sh).
#  2. train: a model zip with the repository's build, `emotionml train` on 6 Javanese clips, 2 epochs (audio CNN: 2
#     epochs of `emotionml train-audio` on the same clips), and the repository's `emotionml predict --json` of a clip.
#  Then, in a temporary folder outside the repository, with no shared folder visible (EMOTIONML_SHARED names a folder
#  that does not exist; only the model zip, one clip and the packages are copied there; a nuget.config lists the feed):
#  3. app: a copy of samples/EmotionML.ConsumerApp restores EmotionML, EmotionML.Models and ONNX Runtime from the feed by
#     PackageReference (-p:EmotionMLVersion), builds, finds the pretrained models in models/ next to itself, loads the zip,
#     predicts the clip and prints the same probabilities as the repository's prediction;
#  4. tool: `dotnet tool install EmotionML.Cli --tool-path … --add-source FEED`, and the installed
#     `emotionml predict model.zip clip.mp4 --json` prints the same probabilities;
#  5. notebook: notebooks/feature-enhancement.ipynb loads the library with #r "nuget: EmotionML, VERSION" from the feed
#     (scripts/run-notebooks.sh; its restore must take EmotionML from the feed: pack.sh removed the cached copy).
# Environment: EMOTIONML_SHARED (the shared folder for the training step; default ../shared), CONSUMER_CHECK_KEEP=1 keeps
# the temporary folder.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
failures=0
pass() { echo "consumer check passed: $*"; }
fail() { echo "consumer check FAILED: $*"; failures=$((failures + 1)); }
finish() {
  if [ "${CONSUMER_CHECK_KEEP:-0}" = 1 ]; then echo "consumer check: kept $work"; else rm -rf "$work"; fi
  [ "$failures" -eq 0 ]; exit $?
}

shared=$(cd "${EMOTIONML_SHARED:-../shared}" 2>/dev/null && pwd) || shared=""
version=$(dotnet msbuild src/EmotionML/EmotionML.csproj -getProperty:Version)
work=$(mktemp -d -t emotionml-consumer-XXXXXX)
log="$work/log"; mkdir -p "$log"
cli="$repo/src/EmotionML.Cli/bin/Release/net10.0/EmotionML.Cli.dll"
# Compares the "probabilities" of the first clip of two JSON outputs: same class names, values within 1e-6.
same_probabilities() {
  python3 - "$1" "$2" <<'PY'
import json, sys
def probs(path):
    text = open(path).read()
    return json.loads(text[text.index("{"):])["clips"][0]["probabilities"]
a, b = probs(sys.argv[1]), probs(sys.argv[2])
print("  expected:", json.dumps(a)); print("  got:     ", json.dumps(b))
sys.exit(0 if a.keys() == b.keys() and all(abs(a[k] - b[k]) <= 1e-6 for k in a) else 1)
PY
}

# 1. Pack.
# Every package: licence expression, readme, repository; the libraries with symbols; the runtime pins ML.NET exactly.
nuspec_problems() {
  for id in EmotionML EmotionML.Training EmotionML.Models EmotionML.Cli; do
    spec=$(unzip -p "artifacts/packages/$id.$version.nupkg" '*.nuspec' 2>/dev/null)
    for want in '<license type="expression">MIT</license>' '<readme>README.md</readme>' '<repository type="git" url="'; do
      grep -qF "$want" <<<"$spec" || echo "$id: nuspec lacks $want"
    done
  done
  for id in EmotionML EmotionML.Training EmotionML.Cli.linux-x64; do [ -f "artifacts/packages/$id.$version.snupkg" ] || echo "$id: no .snupkg"; done
  unzip -p "artifacts/packages/EmotionML.$version.nupkg" '*.nuspec' | grep -qF '<dependency id="Microsoft.ML" version="[5.0.1]"' || echo "EmotionML: Microsoft.ML is not pinned to [5.0.1]"
}
if bash scripts/pack.sh "$repo/artifacts/packages" >"$log/pack.txt" 2>&1 && [ -z "$(nuspec_problems)" ]; then
  pass "pack: $(cd artifacts/packages && ls EmotionML*."$version".nupkg | tr '\n' ' ')(licence, readme, repository, symbols; Microsoft.ML [5.0.1])"
elif [ -n "$(nuspec_problems 2>/dev/null)" ] && [ -f "artifacts/packages/EmotionML.$version.nupkg" ]; then
  fail "pack: package metadata:"; nuspec_problems | sed 's/^/    /'
else
  fail "pack (scripts/pack.sh):"; tail -n 20 "$log/pack.txt" | sed 's/^/    /'
fi

# 2. Train and predict with the repository's build.
trained=0
if [ -z "$shared" ] || [ ! -f "$shared/data/javanese-av/labels.csv" ] || [ ! -f "$cli" ]; then
  fail "train: needs the Release build ($cli) and the shared folder (EMOTIONML_SHARED or ../shared; got '${EMOTIONML_SHARED:-../shared}')"
else
  # 6 clips: actors 01-03 × neutral, happy; the predicted clip is actor 04's 'happy' (not trained on).
  {
    echo "path,label,speaker"
    awk -F, -v root="$shared/data/javanese-av" '{ sub(/\r$/, "") } NR > 1 && ($4 == "01" || $4 == "02" || $4 == "03") && ($2 == "neutral" || $2 == "happy") && $5 == "01" && $6 == "01" { print root "/" $1 "," $2 "," $4 }' "$shared/data/javanese-av/labels.csv"
  } >"$work/clips.csv"
  mkdir -p "$work/consumer"
  clip_src=$(awk -F, -v root="$shared/data/javanese-av" '{ sub(/\r$/, "") } NR > 1 && $4 == "04" && $2 == "happy" && $5 == "01" && $6 == "01" { print root "/" $1; exit }' "$shared/data/javanese-av/labels.csv")
  if [ "$(wc -l <"$work/clips.csv")" -ne 7 ] || [ -z "$clip_src" ]; then
    fail "train: expected 6 training clips and 1 clip to predict in $shared/data/javanese-av/labels.csv, got $(($(wc -l <"$work/clips.csv") - 1)) and '$clip_src'"
  elif cp "$clip_src" "$work/consumer/clip.mp4" && dotnet "$cli" --shared "$shared" --threads 1 train-audio --manifest "$work/clips.csv" --epochs 2 --out "$work/cnn.onnx" >"$log/train-audio.txt" 2>&1 \
    && dotnet "$cli" --shared "$shared" --threads 1 train --manifest "$work/clips.csv" --audio-cnn "$work/cnn.onnx" --frames 4 --epochs 2 --out "$work/consumer/model.zip" >"$log/train.txt" 2>&1 \
    && dotnet "$cli" --shared "$shared" predict "$work/consumer/model.zip" "$work/consumer/clip.mp4" --json >"$work/expected.json" 2>"$log/predict.txt"; then
    trained=1
    pass "train: emotionml train on 6 clips, 2 epochs → model.zip ($(du -h "$work/consumer/model.zip" | cut -f1)); repository prediction of $(basename "$clip_src"): $(python3 -c "import json,sys; c=json.load(open(sys.argv[1]))['clips'][0]; print(c['emotion'])" "$work/expected.json")"
  else
    fail "train (the repository's emotionml train-audio/train/predict):"; tail -n 15 "$log"/train*.txt "$log/predict.txt" 2>/dev/null | sed 's/^/    /'
  fi
fi

# The consumer folder: only the model zip, a clip, the packages, a nuget.config; no shared folder anywhere it can see.
mkdir -p "$work/consumer/feed" "$work/consumer/app"
cp artifacts/packages/*."$version".nupkg "$work/consumer/feed/" 2>/dev/null
cp samples/EmotionML.ConsumerApp/*.cs samples/EmotionML.ConsumerApp/*.csproj "$work/consumer/app/"
cat >"$work/consumer/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="local-feed" value="$work/consumer/feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
isolated() { (cd "$work/consumer" && env -u EMOTIONML_MODELS EMOTIONML_SHARED="$work/consumer/no-shared-here" "$@"); }
for d in "$work" "$work/consumer" "$(dirname "$work")"; do
  [ -e "$d/shared" ] || [ -e "$d/../shared/models" ] && fail "isolation: a shared folder is visible from $d"
done

# 3. The consumer app from the feed.
if isolated dotnet build app/EmotionML.ConsumerApp.csproj -c Release -p:EmotionMLVersion="$version" >"$log/app-build.txt" 2>&1; then
  app="$work/consumer/app/bin/Release/net10.0/EmotionML.ConsumerApp.dll"
  if ! grep -q '"EmotionML/'"$version"'"' "$work/consumer/app/obj/project.assets.json" || grep -q '"type": "project"' "$work/consumer/app/obj/project.assets.json"; then
    fail "app: EmotionML $version was not restored as a package (obj/project.assets.json)"
  elif isolated dotnet "$app" models >"$work/models.json" 2>"$log/app-models.txt" \
    && python3 - "$work/models.json" "$work/consumer/app/bin/Release/net10.0/models/" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
bad = {k: v for k, v in m["models"].items() if not v.startswith(sys.argv[2])}
if bad or m["sharedExists"]: print("  not next to the app:", bad, "shared folder:", m["sharedRoot"], m["sharedExists"]); sys.exit(1)
PY
  then
    pass "app: restored EmotionML, EmotionML.Models $version from the feed; the 6 pretrained models resolve to bin/Release/net10.0/models/, no shared folder"
  else
    fail "app: pretrained models not found next to the app:"; cat "$work/models.json" "$log/app-models.txt" 2>/dev/null | tail -n 20 | sed 's/^/    /'
  fi
  if [ "$trained" -ne 1 ]; then
    fail "app: prediction (no model zip: the train step failed)"
  elif isolated dotnet "$app" json model.zip clip.mp4 >"$work/app.json" 2>"$log/app-predict.txt" && same_probabilities "$work/expected.json" "$work/app.json"; then
    pass "app: the packaged EmotionML loads model.zip and predicts the same probabilities as the repository's build"
  else
    fail "app: prediction from the feed's packages differs from the repository's (or failed):"; tail -n 20 "$log/app-predict.txt" 2>/dev/null | sed 's/^/    /'
  fi
else
  fail "app: restore/build of the consumer app from the feed:"; grep -E 'error|warn' "$log/app-build.txt" | sort -u | head -n 20 | sed 's/^/    /'
  fail "app: prediction (not built)"
fi

# 4. The tool from the feed.
if isolated dotnet tool install EmotionML.Cli --version "$version" --tool-path "$work/consumer/tools" --add-source "$work/consumer/feed" >"$log/tool-install.txt" 2>&1; then
  if [ "$trained" -ne 1 ]; then
    fail "tool: emotionml predict (no model zip: the train step failed)"
  elif isolated "$work/consumer/tools/emotionml" predict model.zip clip.mp4 --json >"$work/tool.json" 2>"$log/tool-predict.txt" && same_probabilities "$work/expected.json" "$work/tool.json"; then
    pass "tool: dotnet tool install EmotionML.Cli $version from the feed; emotionml predict model.zip clip.mp4 --json gives the same probabilities"
  else
    fail "tool: emotionml predict from the installed tool:"; tail -n 20 "$log/tool-predict.txt" 2>/dev/null | sed 's/^/    /'
  fi
else
  fail "tool: dotnet tool install from the feed:"; tail -n 20 "$log/tool-install.txt" | sed 's/^/    /'
fi

# 5. A notebook that loads the library from the feed by #r "nuget: EmotionML, VERSION".
nb=notebooks/feature-enhancement.ipynb
nuget_root=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
if ! grep -q "#r \\\\\"nuget: EmotionML, $version\\\\\"" "$nb" || grep -qE '#r \\"\.\./src/EmotionML(\.Training)?/' "$nb"; then
  fail "notebook: $nb does not load EmotionML by #r \"nuget: EmotionML, $version\" (or still loads the library from a DLL path)"
else
  rm -rf "$nuget_root/emotionml/$version"
  if bash scripts/run-notebooks.sh "$nb" >"$log/notebook.txt" 2>&1 && [ -f "$nuget_root/emotionml/$version/emotionml.$version.nupkg" ] \
     && cmp -s "$nuget_root/emotionml/$version/emotionml.$version.nupkg" "artifacts/packages/EmotionML.$version.nupkg"; then
    pass "notebook: $(basename "$nb") ran with #r \"nuget: EmotionML, $version\" restored from the feed"
  else
    fail "notebook: $(basename "$nb") with EmotionML from the feed:"; tail -n 30 "$log/notebook.txt" | sed 's/^/    /'
  fi
fi

finish
