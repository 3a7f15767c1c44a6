#!/usr/bin/env bash
# API fuzzing (issue #12, item 11): schemathesis, from PyPI into a venv cached
# outside the clone, against the real stack (scripts/fuzz.ts starts it) with a
# client's, a creator's and an operator's token. `npm run test:fuzz`.
# Env: STARMAP_FUZZ_EXAMPLES (examples per operation, default 10),
#      STARMAP_FUZZ_SECONDS (schemathesis --max-time per role, default 60),
#      STARMAP_FUZZ_PYTHON (the interpreter for the venv; default: see below).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
SCHEMATHESIS_VERSION=4.32.5
cache="${STARMAP_CACHE:-$HOME/.cache/starmap}"
venv="$cache/schemathesis-venv"
bin="$venv/bin/schemathesis"

# CPython before 3.11.8 / 3.12.2 keeps the AST constructor's recursion depth in
# interpreter-wide state (cpython gh-106905): two threads parsing at once, as
# hypothesis does for its lambdas under schemathesis --workers 2, can fail with
# "SystemError: AST constructor recursion depth mismatch" and abort a phase
# (CI, 2026-12-04, on pyenv's 3.11.7). So the venv gets the first interpreter
# without that bug: python3, then the newest python3.X on PATH or under pyenv;
# when there is none, schemathesis runs with one worker (slower, same checks).
version_of() { "$1" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' 2>/dev/null; }
race_free() { "$1" -c 'import sys; v = sys.version_info[:3]; sys.exit(0 if (3, 11, 8) <= v < (3, 12) or v >= (3, 12, 2) else 1)' 2>/dev/null; }
pick_python() {
  if [ -n "${STARMAP_FUZZ_PYTHON:-}" ]; then echo "$STARMAP_FUZZ_PYTHON"; return; fi
  local c candidates=(python3)
  for c in python3.14 python3.13 python3.12 python3.11; do command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")"); done
  for c in $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.* 2>/dev/null | sort -rV); do [ -x "$c/bin/python3" ] && candidates+=("$c/bin/python3"); done
  for c in "${candidates[@]}"; do
    if race_free "$c" && "$c" -c 'import venv, ensurepip' 2>/dev/null; then echo "$c"; return; fi
  done
  echo python3
}
if [ -x "$venv/bin/python" ] && ! race_free "$venv/bin/python"; then
  python="$(pick_python)"
  if race_free "$python"; then
    echo "[fuzz] $venv has Python $(version_of "$venv/bin/python") (cpython gh-106905); recreating it with $python ($(version_of "$python"))" >&2
    rm -rf "$venv"
  fi
fi
if [ ! -x "$bin" ] || [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$SCHEMATHESIS_VERSION" ]; then
  python="$(pick_python)"
  echo "[fuzz] creating $venv (schemathesis $SCHEMATHESIS_VERSION from PyPI, Python $(version_of "$python") at $python)" >&2
  mkdir -p "$cache"
  rm -rf "$venv"
  "$python" -m venv "$venv"
  echo "[fuzz] pip install schemathesis==$SCHEMATHESIS_VERSION" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
  echo "[fuzz] installed: $("$bin" --version)" >&2
fi
if race_free "$venv/bin/python"; then
  export STARMAP_FUZZ_WORKERS="${STARMAP_FUZZ_WORKERS:-2}"
else
  export STARMAP_FUZZ_WORKERS=1
  echo "[fuzz] no Python without cpython gh-106905 here (venv: $(version_of "$venv/bin/python")): schemathesis runs with one worker" >&2
fi
echo "[fuzz] schemathesis $SCHEMATHESIS_VERSION on Python $(version_of "$venv/bin/python"), $STARMAP_FUZZ_WORKERS worker(s)" >&2
bash scripts/install.sh
export STARMAP_SCHEMATHESIS="$bin"
exec node --import tsx scripts/fuzz.ts "$@"
