#!/usr/bin/env bash
# Installs the project's local tools when they are missing: Azurite (npm) under .tools/, and the
# test peers (npm oidc-provider in tests/peers/, samlify in tests/peers/saml-idp/, each pinned by its lock file).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
azurite_version="3.35.0"

# --azurite-only: what ./run.sh needs; the test peers are for ./test.sh.
azurite_only=false
[ "${1:-}" = "--azurite-only" ] && azurite_only=true

if [ ! -x "$tools/node_modules/.bin/azurite" ]; then
  echo "Installing Azurite $azurite_version into .tools/ ..."
  mkdir -p "$tools"
  [ -f "$tools/package.json" ] || echo '{"name":"sso-tools","private":true}' > "$tools/package.json"
  npm install --prefix "$tools" --no-audit --no-fund --loglevel=error "azurite@$azurite_version" >/dev/null
fi

$azurite_only && exit 0

# The OpenID Provider nobody on this project wrote (oidc-provider), for the end-to-end OIDC tests.
if [ ! -d "$root/tests/peers/node_modules/oidc-provider" ]; then
  echo "Installing the test peers into tests/peers/ ..."
  npm ci --prefix "$root/tests/peers" --no-audit --no-fund --loglevel=error >/dev/null
fi

# The samlify SAML IdP that the end-to-end sign-in tests run (tests/peers/saml-idp).
saml_idp="$root/tests/peers/saml-idp"
if [ ! -d "$saml_idp/node_modules" ]; then
  echo "Installing the test SAML IdP (samlify) into tests/peers/saml-idp/ ..."
  npm ci --prefix "$saml_idp" --no-audit --no-fund --loglevel=error >/dev/null
fi

# Debian's Chromium for the setup portal's browser tests (Microsoft.Playwright drives it by path;
# Playwright's own browser download cannot reach its host from here).
if [ ! -x /usr/bin/chromium ]; then
  echo "Installing Chromium (apt) for the browser tests ..."
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi
