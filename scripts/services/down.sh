#!/usr/bin/env bash
# Stop the services scripts/services/up.sh started (those whose state lives in
# ${HUMMDESK_SERVICES_DIR:-/tmp/hummdesk-services}); what isn't running is
# ignored. Data directories are kept, so the next up.sh is fast.
set -euo pipefail
exec 1>&2

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=common.sh
source "$HERE/common.sh"

# Same list as up.sh (stopped in reverse order).
SERVICES=(postgres redis dovecot)
if [ -n "${HUMMDESK_SERVICES_ONLY:-}" ]; then
  read -r -a SERVICES <<<"$HUMMDESK_SERVICES_ONLY"
fi

main() {
  local i svc
  take_lock
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do
    svc="${SERVICES[i]}"
    [ -f "$HERE/$svc.sh" ] || die "unknown service '$svc' (no $HERE/$svc.sh)"
    # shellcheck source=/dev/null
    source "$HERE/$svc.sh"
    "${svc}_down"
  done
}

main "$@"
