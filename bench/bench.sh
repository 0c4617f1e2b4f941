#!/usr/bin/env bash
# Runs one benchmark by name: bench/bench.sh <entry> [options]
#   coldstart [starts]   AOT vs JIT cold start (median of 10 by default) and memory
#   scim [--users N] [--memberships M] [--lookups L] [--parallel P] [--floor-ops F] [--warmup W] [--url U --admin-key K [--storage CS --table-prefix P]]   SCIM ops/s, p50/p99, each as a ratio of the raw Azurite floor
#   acs [--responses N] [--parallel P] [--http-responses N --http-parallel P --http-warmup W --azurite-cpu-prof DIR | --no-http]   SAML ACS validations/s (signed, encrypted GCM/CBC), and POST /saml/acs as a ratio of a raw 3-row transaction
#   deprovision [--users N] [--idle I] [--parallel P] [--poll-ms M] [--concurrency C]   SCIM DELETE to token refusal and webhook, p50/p99, users/s
#   google [--users N] [--groups G] [--members-per-group M] [--profile] [--one-azurite] [--stop-after-first] [--azurite-cpu-prof DIR] [--setting K=V]   one Google Workspace sync from the loopback fake: time, pages, storage requests (--profile: by request kind; Azurite as separate table and queue processes unless --one-azurite; --azurite-cpu-prof: node --cpu-prof profiles, see bench/cpuprofile-summary.js)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
entry="${1:-}"
if [ -z "$entry" ]; then
  echo "usage: bench/bench.sh <entry> [options]   (entries: coldstart, scim, acs, deprovision, google)" >&2
  exit 2
fi
scripts/ensure-tools.sh

case "$entry" in
  coldstart)
    # The AOT package (publish.sh is slow: skip it when the binary is there; delete dist/ to rebuild)
    # and the JIT build of the same code.
    [ -x dist/app/Sso.Functions ] || scripts/publish.sh
    dotnet build functions/Sso.Functions -c Release --nologo -v quiet
    ;;
esac

dotnet run --project bench/Sso.Bench -c Release -- "$@"
