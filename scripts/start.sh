#!/usr/bin/env bash
# Runs Starmap on this machine: installs what is missing, then scripts/start.ts
# (Temporal dev server + UI, PostgreSQL, migrations, worker, API). Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install.sh
exec node --import tsx scripts/start.ts
