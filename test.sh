#!/usr/bin/env bash
# Restores, builds and runs every test. Tests that need storage start their own Azurite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/ensure-tools.sh
dotnet test Serverless.Sso.sln --nologo -c Release "$@"
