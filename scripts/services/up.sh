#!/usr/bin/env bash
# Ensure the real backing services for tests/benchmarks are installed and
# running on loopback, then print their URLs:
#
#   eval "$(bash scripts/services/up.sh)"
#
# STDOUT carries only `export NAME=value` lines; all progress goes to STDERR.
# Idempotent and serialised with flock; a second run takes seconds.
# See scripts/services/README.md.
set -euo pipefail

# Keep the real stdout on fd 3 for the final exports; everything else -> stderr.
exec 3>&1 1>&2

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"

# Services, in start order. Each scripts/services/<name>.sh defines
#   <name>_up    install if missing, start if not answering, emit_export URL
#                (and skip everything when its *_URL is already set)
#   <name>_down  stop what <name>_up started
# Later: IMAP (Dovecot) and SMTP go here, e.g. add "dovecot" once
# scripts/services/dovecot.sh exists (and an SMTP sink after it).
SERVICES=(postgres redis dovecot)
if [ -n "${HUMMDESK_SERVICES_ONLY:-}" ]; then
  read -r -a SERVICES <<<"$HUMMDESK_SERVICES_ONLY"
fi

main() {
  local started=$SECONDS svc
  take_lock
  trap run_cleanup EXIT
  for svc in "${SERVICES[@]}"; do
    [ -f "$HERE/$svc.sh" ] || die "unknown service '$svc' (no $HERE/$svc.sh)"
    # shellcheck source=/dev/null
    source "$HERE/$svc.sh"
    "${svc}_up"
  done
  log "services ready in $((SECONDS - started))s"
  printf '%s\n' "${SERVICE_EXPORTS[@]}" >&3
}

main "$@"
