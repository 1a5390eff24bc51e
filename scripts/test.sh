#!/usr/bin/env bash
# The one test command: starts (installing when missing) the real services the suite needs, then runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
eval "$(bash scripts/services/up.sh)"
bash scripts/services/chromium.sh
export DATABASE_URL REDIS_URL
exec npx vitest run "$@"
