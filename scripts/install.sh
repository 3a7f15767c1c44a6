#!/usr/bin/env bash
# Installs the npm dependencies when package-lock.json or a patch under patches/
# changed since the last install (always on a fresh clone); npm ci's postinstall
# applies the patches. Used by scripts/start.sh and scripts/test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
stamp=node_modules/.starmap-lock-hash
want=$(cat package-lock.json patches/*.patch | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "[install] npm ci (package-lock.json or patches/ changed, or first run)" >&2
npm ci --no-audit --no-fund --loglevel=error >&2
echo "$want" >"$stamp"
