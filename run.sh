#!/usr/bin/env bash
# Runs the service locally on http://127.0.0.1:7071 over Azurite (installed and started here).
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
scripts/ensure-tools.sh --azurite-only
mkdir -p .local/azurite .local/secrets

if [ -z "${SSO_ADMIN_KEY:-}" ]; then
  if [ ! -s .local/admin-key ]; then
    (umask 077; head -c 32 /dev/urandom | base64 | tr -d '=+/\n' > .local/admin-key)
  fi
  SSO_ADMIN_KEY="$(cat .local/admin-key)"
fi

pids=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

.tools/node_modules/.bin/azurite --silent --disableTelemetry --skipApiVersionCheck --location .local/azurite \
  --blobHost 127.0.0.1 --queueHost 127.0.0.1 --tableHost 127.0.0.1 \
  --blobKeepAliveTimeout 120 --queueKeepAliveTimeout 120 --tableKeepAliveTimeout 120 > .local/azurite.log 2>&1 &
pids+=($!)

dotnet build functions/Sso.Functions -c Release --nologo -v quiet
ASPNETCORE_ENVIRONMENT=Development \
Storage__ConnectionString="UseDevelopmentStorage=true" \
Secrets__Backend=local \
Secrets__LocalPath="$root/.local/secrets" \
SSO_ADMIN_KEY="$SSO_ADMIN_KEY" \
  dotnet functions/Sso.Functions/bin/Release/net10.0/Sso.Functions.dll &
pids+=($!)

for _ in $(seq 1 120); do
  if curl -fsS http://127.0.0.1:7071/health >/dev/null 2>&1; then
    echo
    echo "Serverless.Sso is running at http://127.0.0.1:7071"
    echo "Admin key: $SSO_ADMIN_KEY"
    echo "Console:   http://127.0.0.1:7071/console (sign in with the admin key)"
    echo "Try: curl -H \"Authorization: Bearer \$SSO_ADMIN_KEY\" http://127.0.0.1:7071/api/v1/tenants"
    echo "Ctrl-C stops the service and Azurite."
    break
  fi
  sleep 0.5
done
wait -n "${pids[@]}"
