#!/usr/bin/env bash
# Runs every check and test, on a fresh machine as on a used one:
#   install -> tools (Temporal CLI, time-skipping test server; cached outside the
#   clone) -> typecheck -> lint -> vitest (workflow, API, end-to-end tests).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
started=$SECONDS
step() { printf '\n[test] %s (%ss)\n' "$*" "$((SECONDS - started))"; }

step "installing npm dependencies"
bash scripts/install.sh

step "ensuring tools"
while IFS='=' read -r name path; do
  case $name in
    temporal) export STARMAP_TEMPORAL_CLI=$path ;;
    test-server) export STARMAP_TEST_SERVER=$path ;;
  esac
done < <(bash scripts/tools.sh all)
echo "Temporal CLI: $STARMAP_TEMPORAL_CLI"
echo "Test server:  $STARMAP_TEST_SERVER"

step "typecheck"
npx tsc --noEmit -p .

step "lint"
npx eslint --max-warnings=0 .

step "tests"
npx vitest run "$@"

step "done"
