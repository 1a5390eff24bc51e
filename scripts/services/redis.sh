# shellcheck shell=bash
# Redis on 127.0.0.1, no persistence. Sourced by up.sh / down.sh after
# common.sh. Defines redis_up and redis_down.

REDIS_PORT="${HUMMDESK_REDIS_PORT:-63799}"
REDIS_STATE="$HUMMDESK_SERVICES_DIR/redis"
REDIS_PIDFILE="$REDIS_STATE/redis.pid"
REDIS_LOG="$REDIS_STATE/redis.log"

redis_install() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 && return 0
  apt_install "Redis" redis-server redis-tools
  command -v redis-server >/dev/null 2>&1 || die "redis-server installed but not on PATH"
}

redis_ping() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
}

redis_start() {
  if redis_ping; then
    log "redis already answering on 127.0.0.1:$REDIS_PORT"
    return 0
  fi
  ensure_local_state
  svc_mkdir "$REDIS_STATE"
  log "starting redis on 127.0.0.1:$REDIS_PORT (log $REDIS_LOG)"
  svc_run redis-server \
    --bind 127.0.0.1 --port "$REDIS_PORT" \
    --save "" --appendonly no \
    --daemonize yes --dir "$REDIS_STATE" \
    --pidfile "$REDIS_PIDFILE" --logfile "$REDIS_LOG" >&2 \
    || die "redis-server failed to start (log: $REDIS_LOG)"
  wait_until "redis on 127.0.0.1:$REDIS_PORT" redis_ping || {
    tail -n 30 "$REDIS_LOG" >&2 2>/dev/null
    die "redis did not answer PING on 127.0.0.1:$REDIS_PORT within ${HUMMDESK_SERVICES_TIMEOUT}s (log: $REDIS_LOG)"
  }
}

redis_up() {
  local own_url="redis://127.0.0.1:$REDIS_PORT"
  # Same rule as postgres_up: a REDIS_URL equal to ours is still managed.
  if [ -n "${REDIS_URL:-}" ] && [ "$REDIS_URL" != "$own_url" ]; then
    log "REDIS_URL is set; not managing redis"
    emit_export REDIS_URL "$REDIS_URL"
    return 0
  fi
  redis_install
  redis_start
  emit_export REDIS_URL "$own_url"
}

redis_down() {
  if command -v redis-cli >/dev/null 2>&1 && redis_ping; then
    log "stopping redis on 127.0.0.1:$REDIS_PORT"
    redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
    local deadline=$((SECONDS + HUMMDESK_SERVICES_TIMEOUT))
    while redis_ping && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    redis_ping && log "WARNING: redis still answering on 127.0.0.1:$REDIS_PORT"
  else
    log "redis on 127.0.0.1:$REDIS_PORT is not running"
  fi
  return 0
}
