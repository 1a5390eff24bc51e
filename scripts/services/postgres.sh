# shellcheck shell=bash source=common.sh disable=SC2154  # apt_env etc. come from common.sh
# PostgreSQL 15 + pgvector on 127.0.0.1. Sourced by up.sh / down.sh after
# common.sh. Defines postgres_up and postgres_down.

PG_MAJOR=15
PG_BIN="${HUMMDESK_PG_BIN:-/usr/lib/postgresql/$PG_MAJOR/bin}"
PG_CONFIG="$PG_BIN/pg_config"
PG_PORT="${HUMMDESK_PG_PORT:-54329}"
PG_ROLE="${HUMMDESK_PG_ROLE:-hummdesk}"
PG_DB="${HUMMDESK_PG_DB:-hummdesk_test}"
PG_STATE="$HUMMDESK_SERVICES_DIR/postgres"
PG_DATA="$PG_STATE/data"
PG_SOCK="$PG_STATE/run"
PG_LOG="$PG_STATE/postgres.log"
# Where the pgvector source package comes from (bookworm has none).
PGVECTOR_SUITE="${HUMMDESK_PGVECTOR_SUITE:-trixie}"

# ---------------------------------------------------------------- install --

pg_server_installed() {
  local b
  for b in postgres initdb pg_ctl pg_isready psql; do
    [ -x "$PG_BIN/$b" ] || return 1
  done
}

pg_install_server() {
  pg_server_installed && return 0
  apt_install "PostgreSQL $PG_MAJOR server" "postgresql-$PG_MAJOR" "postgresql-client-$PG_MAJOR"
  pg_server_installed || die "postgresql-$PG_MAJOR installed but binaries missing in $PG_BIN"
}

pg_sharedir() {
  if [ -x "$PG_CONFIG" ]; then "$PG_CONFIG" --sharedir; else echo "/usr/share/postgresql/$PG_MAJOR"; fi
}
pg_pkglibdir() {
  if [ -x "$PG_CONFIG" ]; then "$PG_CONFIG" --pkglibdir; else echo "/usr/lib/postgresql/$PG_MAJOR/lib"; fi
}

pgvector_installed() {
  [ -f "$(pg_sharedir)/extension/vector.control" ] && [ -f "$(pg_pkglibdir)/vector.so" ]
}

# The Debian mirror this machine already uses (first plain .../debian URI in
# /etc/apt/sources.list{,.d/*.list,.d/*.sources}), so we hit the same host.
debian_mirror() {
  if [ -n "${HUMMDESK_DEBIAN_MIRROR:-}" ]; then
    printf '%s\n' "${HUMMDESK_DEBIAN_MIRROR%/}"; return
  fi
  local uri f
  uri="$(
    {
      for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        # deb [opt=… opt=…] URI suite components…
        awk '$1=="deb" || $1=="deb-src" {
               for (i = 2; i <= NF; i++) {
                 if ($i ~ /^\[/) { while (i < NF && $i !~ /\]$/) i++; continue }
                 print $i; break
               }
             }' "$f"
      done
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f"
      done
    } 2>/dev/null | grep -E '^(https?|ftp)://[^[:space:]]+/debian/?$' | head -n 1
  )" || true
  printf '%s\n' "${uri:-http://deb.debian.org/debian}" | sed 's#/*$##'
}

# Build pgvector from Debian's own source package (newer suite), using a
# PRIVATE apt configuration: the machine's /etc/apt is never modified.
pgvector_build() {
  require_root "pgvector for PostgreSQL $PG_MAJOR ($(pg_sharedir)/extension/vector.control)"
  apt_install "pgvector build dependencies" "postgresql-server-dev-$PG_MAJOR" build-essential dpkg-dev
  [ -x "$PG_CONFIG" ] || die "pg_config not found at $PG_CONFIG after installing postgresql-server-dev-$PG_MAJOR"

  local work mirror keyring="" src version
  work="$(mktemp -d "${TMPDIR:-/tmp}/hummdesk-pgvector.XXXXXX")"
  CLEANUP_PATHS+=("$work")
  chmod 0755 "$work"
  mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"
  mirror="$(debian_mirror)"
  [ -f /usr/share/keyrings/debian-archive-keyring.gpg ] \
    && keyring="[signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] "
  printf 'deb-src %s%s %s main\n' "$keyring" "$mirror" "$PGVECTOR_SUITE" >"$work/apt/sources.list"
  # apt drops privileges to _apt for downloads; let it write there.
  if is_root && id -u _apt >/dev/null 2>&1; then chown _apt "$work/src"; fi

  local apt_private=(
    -o "Dir::Etc::SourceList=$work/apt/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$work/apt/lists"
    -o "Dir::Cache=$work/apt/cache"
  )
  log "fetching pgvector source from $mirror $PGVECTOR_SUITE (private apt config in $work/apt)"
  run_logged "apt-get update of the private $PGVECTOR_SUITE deb-src list (mirror $mirror)" \
    "${apt_env[@]}" apt-get -qq "${apt_private[@]}" update
  # shellcheck disable=SC2016  # $1/$@ are for the inner bash
  run_logged "apt-get source pgvector (mirror $mirror, suite $PGVECTOR_SUITE)" \
    bash -c 'cd "$1" && shift && exec "$@"' _ "$work/src" \
    "${apt_env[@]}" apt-get -qq "${apt_private[@]}" source pgvector

  src="$(find "$work/src" -mindepth 1 -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
  if [ -z "$src" ] || [ ! -f "$src/Makefile" ]; then
    die "pgvector source tree not found after apt-get source"
  fi
  version="${src##*/pgvector-}"
  case "$version" in
    0.8.*) ;;
    *) log "WARNING: expected pgvector 0.8.x, $PGVECTOR_SUITE has $version" ;;
  esac

  log "building pgvector $version against $("$PG_CONFIG" --version)"
  # OPTFLAGS="" avoids -march=native, so the .so runs on any x86-64 machine.
  run_logged "building pgvector $version" \
    make -C "$src" -j"$(nproc 2>/dev/null || echo 2)" PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
  run_logged "make install of pgvector" \
    as_root "pgvector (make install)" make -C "$src" PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install
  pgvector_installed \
    || die "pgvector installed but $(pg_sharedir)/extension/vector.control or $(pg_pkglibdir)/vector.so is missing"
  log "pgvector $version installed into $(pg_pkglibdir)"
}

pgvector_install() {
  pgvector_installed && return 0
  pgvector_build
}

# ----------------------------------------------------------------- server --

# -U/-d only to keep "role root does not exist" out of the server log.
pg_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -t 2 >/dev/null 2>&1
}

# Is the PID in postmaster.pid a live postgres? (Not a zombie, nor a reused
# PID after a reboot/kill -9: postgres itself would then refuse to start.)
pg_pid_running() {
  local pid state
  pid="$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  if [ ! -r "/proc/$pid/stat" ]; then
    [ -d /proc/self ] && return 1
    kill -0 "$pid" 2>/dev/null; return
  fi
  state="$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)"
  [ "$state" != Z ] && grep -q postgres "/proc/$pid/comm" 2>/dev/null
}

pg_clear_stale_pid() {
  [ -f "$PG_DATA/postmaster.pid" ] || return 0
  log "removing stale $PG_DATA/postmaster.pid (server is not running)"
  svc_run rm -f "$PG_DATA/postmaster.pid" "$PG_SOCK/.s.PGSQL.$PG_PORT" "$PG_SOCK/.s.PGSQL.$PG_PORT.lock"
}

pg_locale() {
  if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then echo C.UTF-8; else echo C; fi
}

pg_init() {
  [ -f "$PG_DATA/PG_VERSION" ] && return 0
  # A data dir without PG_VERSION is debris from an interrupted initdb.
  [ -e "$PG_DATA" ] && svc_run rm -rf "$PG_DATA"
  svc_mkdir "$PG_STATE" "$PG_SOCK"
  log "initdb $PG_DATA"
  svc_run "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
    --encoding=UTF8 --locale="$(pg_locale)" >"$PG_STATE/initdb.log" 2>&1 \
    || { cat "$PG_STATE/initdb.log" >&2; die "initdb failed (see $PG_STATE/initdb.log)"; }
  # Our settings live in hummdesk.conf, rewritten on every start.
  printf "\ninclude_if_exists = 'hummdesk.conf'\n" | svc_run tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# fsync / synchronous_commit stay at their (safe) defaults on purpose.
pg_write_conf() {
  printf '%s\n' \
    "# Written by scripts/services/postgres.sh on every start; edits are lost." \
    "listen_addresses = '127.0.0.1'" \
    "port = $PG_PORT" \
    "unix_socket_directories = '$PG_SOCK'" \
    "max_connections = 200" \
    | svc_run tee "$PG_DATA/hummdesk.conf" >/dev/null
}

pg_start() {
  if pg_ready; then
    log "postgres already answering on 127.0.0.1:$PG_PORT"
    return 0
  fi
  ensure_local_state
  pg_init
  svc_mkdir "$PG_SOCK"
  pg_write_conf
  if pg_pid_running; then
    log "postgres process exists for $PG_DATA, waiting for it to accept connections"
  else
    pg_clear_stale_pid
    log "starting postgres on 127.0.0.1:$PG_PORT (data $PG_DATA, log $PG_LOG)"
    svc_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -s -w -t "$HUMMDESK_SERVICES_TIMEOUT" start >&2 \
      || { tail -n 30 "$PG_LOG" >&2 2>/dev/null; die "pg_ctl start failed (log: $PG_LOG)"; }
  fi
  wait_until "postgres on 127.0.0.1:$PG_PORT" pg_ready || {
    tail -n 30 "$PG_LOG" >&2 2>/dev/null
    die "postgres did not answer on 127.0.0.1:$PG_PORT within ${HUMMDESK_SERVICES_TIMEOUT}s (log: $PG_LOG; try scripts/services/down.sh)"
  }
}

pg_psql() {
  PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" "$@"
}

# Role, database and the vector extension (which proves pgvector loads).
pg_provision() {
  local admin="" u
  for u in postgres "$PG_ROLE"; do
    if pg_psql -U "$u" -d postgres -tAc 'select 1' >/dev/null 2>&1; then admin="$u"; break; fi
  done
  [ -n "$admin" ] || die "cannot connect to postgres on 127.0.0.1:$PG_PORT as postgres or $PG_ROLE"
  pg_psql -U "$admin" -d postgres -v role="$PG_ROLE" -v db="$PG_DB" >&2 <<'SQL' \
    || die "creating role/database in postgres failed"
SELECT format('CREATE ROLE %I LOGIN SUPERUSER', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
  pg_psql -U "$PG_ROLE" -d "$PG_DB" -c 'CREATE EXTENSION IF NOT EXISTS vector' >&2 \
    || die "CREATE EXTENSION vector failed in $PG_DB (is pgvector built for PostgreSQL $PG_MAJOR?)"
}

# ------------------------------------------------------------- interface --

postgres_up() {
  local own_url="postgres://$PG_ROLE@127.0.0.1:$PG_PORT/$PG_DB"
  # A DATABASE_URL pointing elsewhere is used as is. One equal to ours (left
  # in the shell by an earlier `eval "$(up.sh)"`) is still ours to (re)start.
  if [ -n "${DATABASE_URL:-}" ] && [ "$DATABASE_URL" != "$own_url" ]; then
    log "DATABASE_URL is set; not managing postgres"
    emit_export DATABASE_URL "$DATABASE_URL"
    return 0
  fi
  pg_install_server
  pgvector_install
  pg_start
  pg_provision
  emit_export DATABASE_URL "$own_url"
}

postgres_down() {
  if [ -x "$PG_BIN/pg_ctl" ] && pg_pid_running; then
    log "stopping postgres ($PG_DATA)"
    svc_run "$PG_BIN/pg_ctl" -D "$PG_DATA" -s -m fast -w -t "$HUMMDESK_SERVICES_TIMEOUT" stop >&2 \
      || log "WARNING: pg_ctl stop failed"
  else
    log "postgres ($PG_DATA) is not running"
    [ -d "$HUMMDESK_SERVICES_DIR" ] && pg_clear_stale_pid
  fi
  return 0
}
