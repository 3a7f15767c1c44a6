#!/usr/bin/env bash
# Runs every check and test, on a fresh machine as on a used one:
#   install -> tools (Temporal CLI, time-skipping test server; cached outside the
#   clone) -> typecheck -> lint -> vitest (workflow, API, end-to-end tests)
#   -> fault test, quick mode (scripts/faults.ts --quick; README "Fault test")
#   -> cluster smoke test (scripts/faults.ts --cluster: Temporal's four services on
#      PostgreSQL with mTLS, 20 lifecycles, kill -9 of history; README "Scaling out";
#      STARMAP_TEST_CLUSTER=0 skips it on a developer's machine, .ci/run never does)
#   -> fuzz (scripts/fuzz.sh: schemathesis against the running API; README "Fuzz")
#   -> lifecycle benchmark, quick mode, as a smoke test (README "Benchmarks": it
#      fails only when the benchmark itself errors, never on its figures).
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
    chromium) export STARMAP_CHROMIUM=$path ;;
  esac
done < <(bash scripts/tools.sh all)
echo "Temporal CLI: $STARMAP_TEMPORAL_CLI"
echo "Test server:  $STARMAP_TEST_SERVER"
if [ "${STARMAP_TEST_CLUSTER:-1}" != 0 ]; then
  # temporal-server and temporal-sql-tool for the cluster smoke test (built once: minutes)
  bash scripts/tools.sh cluster
fi

step "typecheck"
npx tsc --noEmit -p .

step "lint"
npx eslint --max-warnings=0 .

step "tests"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# the plain summary line CI reads, from vitest's JSON report
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$report" || true
rm -f "$report"
[ "$status" -eq 0 ] || exit "$status"

step "fault test (quick: 20 lifecycles per fault)"
node --import tsx scripts/faults.ts --quick --require-503

if [ "${STARMAP_TEST_CLUSTER:-1}" != 0 ]; then
  step "cluster smoke test (Temporal's four services, mTLS; 20 lifecycles, kill -9 history)"
  node --import tsx scripts/faults.ts --cluster --quick --only history --require-503
else
  step "cluster smoke test SKIPPED (STARMAP_TEST_CLUSTER=0)"
fi

step "fuzz (schemathesis --checks all, client, creator and operator; README Fuzz)"
bash scripts/fuzz.sh

step "lifecycle benchmark smoke test (bench:lifecycle --quick; not a timed assertion)"
node --import tsx bench/lifecycle.ts --quick

step "done"
