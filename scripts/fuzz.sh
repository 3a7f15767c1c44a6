#!/usr/bin/env bash
# API fuzzing (issue #12, item 11): schemathesis, from PyPI into a venv cached
# outside the clone, against the real stack (scripts/fuzz.ts starts it) with a
# client's, a creator's and an operator's token. `npm run test:fuzz`.
# Env: STARMAP_FUZZ_EXAMPLES (examples per operation, default 10),
#      STARMAP_FUZZ_SECONDS (schemathesis --max-time per role, default 60).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCHEMATHESIS_VERSION=4.32.5
cache="${STARMAP_CACHE:-$HOME/.cache/starmap}"
venv="$cache/schemathesis-venv"
bin="$venv/bin/schemathesis"
if [ ! -x "$bin" ] || [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  echo "[fuzz] creating $venv (schemathesis $SCHEMATHESIS_VERSION from PyPI)" >&2
  mkdir -p "$cache"
  python3 -m venv "$venv"
  echo "[fuzz] pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  echo "[fuzz] installed: $("$bin" --version)" >&2
fi
bash scripts/install.sh
export STARMAP_SCHEMATHESIS="$bin"
exec node --import tsx scripts/fuzz.ts "$@"
