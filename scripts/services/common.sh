# shellcheck shell=bash
# Shared helpers for scripts/services/*.sh. Sourced, never executed.
#
# Conventions:
#   - every log line goes to STDERR (up.sh points fd 1 at stderr, too);
#   - only up.sh writes `export NAME=value` lines to the real STDOUT;
#   - fds 3 (saved stdout) and 9 (lock) must never leak into long-lived
#     daemons, otherwise `$(bash up.sh)` would never return and the lock would
#     never be released: start everything through `svc_run`/`as_root`.


HUMMDESK_SERVICES_DIR="${HUMMDESK_SERVICES_DIR:-/tmp/hummdesk-services}"
HUMMDESK_SERVICES_USER="${HUMMDESK_SERVICES_USER:-hummdesk}"
HUMMDESK_SERVICES_TIMEOUT="${HUMMDESK_SERVICES_TIMEOUT:-60}"            # seconds to wait for a server
HUMMDESK_SERVICES_LOCK_TIMEOUT="${HUMMDESK_SERVICES_LOCK_TIMEOUT:-1800}" # first run installs + builds

log() { printf '[services] %s\n' "$*" >&2; }
die() { printf '[services] ERROR: %s\n' "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# The OS user the servers run as: a dedicated system user when we are root
# (PostgreSQL refuses to run as root), otherwise whoever runs the script.
# If the state dir already exists and belongs to a non-root user, that user
# owns the servers in it (so down.sh can stop them whoever started them).
service_user() {
  if ! is_root; then id -un; return; fi
  local owner=""
  [ -d "$HUMMDESK_SERVICES_DIR" ] && owner="$(stat -c %U "$HUMMDESK_SERVICES_DIR" 2>/dev/null || true)"
  if [ -n "$owner" ] && [ "$owner" != root ] && [ "$owner" != UNKNOWN ]; then
    printf '%s\n' "$owner"
  else
    printf '%s\n' "$HUMMDESK_SERVICES_USER"
  fi
}

# Can we become root (directly or via passwordless sudo)? Dies naming WHAT is
# missing otherwise.
require_root() {
  is_root && return 0
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && return 0
  die "$* is missing and installing it needs root, but this is not root and passwordless sudo is unavailable; install it by hand (or re-run as root)"
}

# as_root WHAT cmd... : run a command as root, directly or through sudo.
as_root() {
  local what="$1"; shift
  require_root "$what"
  if is_root; then
    "$@" 3>&- 9<&- </dev/null
  else
    sudo -n -E "$@" 3>&- 9<&- </dev/null
  fi
}

# Close every fd above 2 in the current (sub)shell, so daemons started from
# it hold neither our lock, nor the caller's stdout, nor pipes inherited from
# whatever runs us (a test runner waiting for EOF would hang otherwise).
close_extra_fds() {
  local fd
  if [ -d "/proc/$BASHPID/fd" ]; then
    for fd in /proc/"$BASHPID"/fd/*; do
      fd="${fd##*/}"
      [ "$fd" -gt 2 ] 2>/dev/null && { exec {fd}>&-; } 2>/dev/null
    done
  fi
  exec 3>&- 9<&-
  return 0
}

# Run a command as the service user, from inside the state dir, without the
# lock / stdout fds (daemons started here must not inherit them). stdin is
# passed through so `... | svc_run tee file` works.
svc_run() {
  local user; user="$(service_user)"
  if is_root && [ "$user" != root ]; then
    (close_extra_fds; cd "$HUMMDESK_SERVICES_DIR" && exec runuser -u "$user" -- "$@")
  else
    (close_extra_fds; cd "$HUMMDESK_SERVICES_DIR" && exec "$@")
  fi
}

APT_UPDATED=0
apt_env=(env DEBIAN_FRONTEND=noninteractive NEEDRESTART_MODE=a)
apt_opts=(-qq -y -o Dpkg::Use-Pty=0 -o DPkg::Lock::Timeout=600
          -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

# run_logged WHAT cmd... : run quietly, output kept in a temp log that is shown
# (tail) only when the command fails.
run_logged() {
  local what="$1"; shift
  local out; out="$(mktemp "${TMPDIR:-/tmp}/hummdesk-services.XXXXXX")"
  CLEANUP_PATHS+=("$out")
  if ! "$@" >"$out" 2>&1; then
    tail -n 40 "$out" >&2
    die "$what failed"
  fi
}

deb_installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

# apt_install WHAT pkg... : install the Debian packages not installed yet
# (apt-get update once per run).
apt_install() {
  local what="$1"; shift
  local p missing=()
  for p in "$@"; do deb_installed "$p" || missing+=("$p"); done
  [ "${#missing[@]}" -eq 0 ] && return 0
  set -- "${missing[@]}"
  command -v apt-get >/dev/null 2>&1 || die "$what ($*) is missing and apt-get is not available to install it"
  require_root "$what ($*)"
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    run_logged "apt-get update" as_root "$what" "${apt_env[@]}" apt-get "${apt_opts[@]}" update
    APT_UPDATED=1
  fi
  log "apt-get install $* ($what)"
  run_logged "apt-get install $*" \
    as_root "$what" "${apt_env[@]}" apt-get "${apt_opts[@]}" install --no-install-recommends "$@"
}

# Create the unprivileged system user when running as root.
ensure_service_user() {
  is_root || return 0
  local user; user="$(service_user)"
  id -u "$user" >/dev/null 2>&1 && return 0
  log "creating system user $user"
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$user" 2>/dev/null \
    || id -u "$user" >/dev/null 2>&1 \
    || die "could not create system user $user"
}

# State dir (data dirs, sockets, logs) owned by the service user.
ensure_state_dir() {
  local user; user="$(service_user)"
  mkdir -p "$HUMMDESK_SERVICES_DIR" || die "cannot create $HUMMDESK_SERVICES_DIR"
  if is_root; then
    chown "$user:" "$HUMMDESK_SERVICES_DIR"
  else
    local owner; owner="$(stat -c %U "$HUMMDESK_SERVICES_DIR")"
    [ "$owner" = "$user" ] || die "$HUMMDESK_SERVICES_DIR is owned by $owner, not $user: run as root or set HUMMDESK_SERVICES_DIR"
  fi
  chmod 0755 "$HUMMDESK_SERVICES_DIR"
}

# mkdir as the service user (so ownership is right).
svc_mkdir() { svc_run mkdir -p "$@"; }

# wait_until DESCRIPTION COMMAND... : poll until COMMAND succeeds or timeout.
wait_until() {
  local what="$1"; shift
  local deadline=$((SECONDS + HUMMDESK_SERVICES_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      return 1
    fi
    sleep 0.2
  done
  log "$what is ready"
}

# Paths removed when up.sh exits (temporary build dirs).
CLEANUP_PATHS=()
run_cleanup() {
  local p
  for p in "${CLEANUP_PATHS[@]}"; do rm -rf -- "$p"; done
}

# One-time local setup before the first server is started.
LOCAL_STATE_READY=0
ensure_local_state() {
  [ "$LOCAL_STATE_READY" = 1 ] && return 0
  ensure_service_user
  ensure_state_dir
  LOCAL_STATE_READY=1
}

# Exports collected by the *_up functions; up.sh prints them at the end.
SERVICE_EXPORTS=()
emit_export() { SERVICE_EXPORTS+=("export $1=$(printf '%q' "$2")"); }

# Take the global lock (fd 9). Shared by up.sh and down.sh.
take_lock() {
  local lock="${HUMMDESK_SERVICES_DIR%/}.lock"
  mkdir -p "$(dirname "$lock")" 2>/dev/null || true
  if [ ! -e "$lock" ]; then
    (umask 000; : >>"$lock") 2>/dev/null || true
  fi
  # Open read-only: works for any user and with fs.protected_regular; flock
  # does not care about the open mode.
  exec 9<"$lock" || die "cannot open lock file $lock"
  if ! flock -n 9; then
    log "waiting for lock $lock (another up.sh/down.sh is running)"
    flock -w "$HUMMDESK_SERVICES_LOCK_TIMEOUT" 9 \
      || die "timed out after ${HUMMDESK_SERVICES_LOCK_TIMEOUT}s waiting for lock $lock"
  fi
}
