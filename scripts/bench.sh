#!/usr/bin/env bash
# `npm run bench -- NAME`: starts the real services a benchmark needs, then runs bench/NAME/run.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
name="${1:-}"
if [ -z "$name" ] || [ ! -f "bench/$name/run.ts" ]; then
  echo "usage: npm run bench -- <name>   (one of: $(ls bench | tr '\n' ' '))" >&2
  exit 2
fi
shift
eval "$(bash scripts/services/up.sh)"
export DATABASE_URL REDIS_URL
exec npx tsx "bench/$name/run.ts" "$@"
