#!/usr/bin/env bash
# Builds the deployable function-app package:
#   dist/app/               host.json, the Native AOT handler binary, <FunctionName>/function.json
#   dist/sso-functions.zip  the same, zipped, for zip deploy (Flex Consumption one deploy)
# Fails on any trim or AOT warning that is not in the reviewed list of docs/deploy.md.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

rid="linux-x64"
publish_dir="artifacts/aot/publish"
log="artifacts/aot/publish.log"
mkdir -p artifacts/aot
rm -rf "$publish_dir"

echo "Publishing the handler with Native AOT for $rid (takes a few minutes) ..."
# Its own artifacts folder, so the AOT build never shares obj/ with the JIT build and tests.
if ! dotnet publish functions/Sso.Functions -c Release -r "$rid" -p:PublishAot=true \
    --artifacts-path artifacts/aot -o "$publish_dir" --nologo > "$log" 2>&1; then
  cat "$log"
  echo "publish.sh: dotnet publish failed (log: $log)" >&2
  exit 1
fi

# Third-party findings reviewed in docs/deploy.md ("Trim and AOT warnings"). Anything else,
# and anything naming our own assemblies, fails the package.
reviewed='warning IL2104: Assembly .Azure\.Data\.Tables. produced trim warnings|warning IL3053: Assembly .Azure\.Data\.Tables. produced AOT analysis warnings|warning IL3053: Assembly .Microsoft\.AspNetCore\.Http\.Extensions. produced AOT analysis warnings'
unreviewed="$(grep -E '(warning|error) IL[0-9]{4}' "$log" | grep -Ev "$reviewed" | sort -u || true)"
if [ -n "$unreviewed" ]; then
  echo "$unreviewed" >&2
  echo "publish.sh: trim/AOT findings not in the reviewed list of docs/deploy.md" >&2
  exit 1
fi

dotnet run --project tools/Sso.Package -c Release -- \
  --output dist/app --host-json host.json --handler "$publish_dir" --executable Sso.Functions \
  --zip dist/sso-functions.zip

size="$(du -h dist/app/Sso.Functions | cut -f1)"
echo "Package ready: dist/app (handler $size), dist/sso-functions.zip"
