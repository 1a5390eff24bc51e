# shellcheck shell=bash disable=SC2154  # apt_env etc. come from common.sh
# Dovecot (IMAP + LMTP) on 127.0.0.1 with a private config: its own base_dir,
# state_dir and maildirs under the services dir, a static passdb (any user,
# one password), run as the unprivileged service user. It never becomes the
# machine's mail server: the packages' own service is kept from starting.
# Sourced by up.sh / down.sh after common.sh. Defines dovecot_up and dovecot_down.

DOVECOT_IMAP_PORT="${HUMMDESK_IMAP_PORT:-31143}"
DOVECOT_LMTP_PORT="${HUMMDESK_LMTP_PORT:-31024}"
DOVECOT_PASSWORD="${HUMMDESK_IMAP_PASSWORD:-hummdesk}"
DOVECOT_STATE="$HUMMDESK_SERVICES_DIR/dovecot"
DOVECOT_CONF="$DOVECOT_STATE/dovecot.conf"
DOVECOT_LOG="$DOVECOT_STATE/dovecot.log"

dovecot_installed() { [ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] && [ -x /usr/lib/dovecot/lmtp ]; }

dovecot_install() {
  dovecot_installed && return 0
  require_root "Dovecot (dovecot-imapd dovecot-lmtpd)"
  # Keep the packages' postinst from starting a system-wide Dovecot (policy-rc.d 101 = "not now").
  local policy=/usr/sbin/policy-rc.d created=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root "policy-rc.d" tee "$policy" >/dev/null
    as_root "policy-rc.d" chmod 0755 "$policy"
    created=1
  fi
  apt_install "Dovecot" dovecot-core dovecot-imapd dovecot-lmtpd || true
  [ "$created" = 1 ] && as_root "policy-rc.d" rm -f "$policy"
  dovecot_installed || die "dovecot-imapd/dovecot-lmtpd installed but /usr/lib/dovecot/{imap,lmtp} are missing"
}

dovecot_write_conf() {
  local user group uid
  user="$(service_user)"
  group="$(id -gn "$user")"
  uid="$(id -u "$user")"
  svc_mkdir "$DOVECOT_STATE/run" "$DOVECOT_STATE/state" "$DOVECOT_STATE/mail"
  cat <<CONF | svc_run tee "$DOVECOT_CONF" >/dev/null
# Written by scripts/services/dovecot.sh on every start; edits are lost.
base_dir = $DOVECOT_STATE/run
state_dir = $DOVECOT_STATE/state
log_path = $DOVECOT_LOG
info_log_path = $DOVECOT_LOG
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = $user
default_internal_group = $group
default_login_user = $user
first_valid_uid = $uid
last_valid_uid = $uid
mail_location = maildir:$DOVECOT_STATE/mail/%Ln
mail_uid = $user
mail_gid = $group
recipient_delimiter = +
lmtp_save_to_detail_mailbox = no
passdb {
  driver = static
  args = password=$DOVECOT_PASSWORD
}
userdb {
  driver = static
  args = uid=$user gid=$group home=$DOVECOT_STATE/mail/%Ln
}
namespace inbox {
  inbox = yes
  mailbox Sent {
    special_use = \\Sent
    auto = subscribe
  }
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $DOVECOT_IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $DOVECOT_LMTP_PORT
  }
}
service anvil {
  chroot =
}
service stats {
  unix_listener stats-reader {
    user = $user
  }
  unix_listener stats-writer {
    user = $user
  }
}
CONF
}

dovecot_ping() {
  # A greeting on the IMAP port is enough to know it is up.
  timeout 2 bash -c "exec 5<>/dev/tcp/127.0.0.1/$DOVECOT_IMAP_PORT && head -c 4 <&5 | grep -q '\* OK'" 2>/dev/null
}

dovecot_start() {
  if dovecot_ping; then
    log "dovecot already answering on 127.0.0.1:$DOVECOT_IMAP_PORT"
    return 0
  fi
  ensure_local_state
  dovecot_write_conf
  log "starting dovecot: IMAP 127.0.0.1:$DOVECOT_IMAP_PORT, LMTP 127.0.0.1:$DOVECOT_LMTP_PORT (log $DOVECOT_LOG)"
  # Dovecot keeps its stdio open after forking: never hand it our pipes.
  svc_run /usr/sbin/dovecot -c "$DOVECOT_CONF" </dev/null >/dev/null 2>&1 || { tail -n 30 "$DOVECOT_LOG" >&2 2>/dev/null; die "dovecot failed to start (log: $DOVECOT_LOG)"; }
  wait_until "dovecot on 127.0.0.1:$DOVECOT_IMAP_PORT" dovecot_ping || {
    tail -n 30 "$DOVECOT_LOG" >&2 2>/dev/null
    die "dovecot did not answer on 127.0.0.1:$DOVECOT_IMAP_PORT within ${HUMMDESK_SERVICES_TIMEOUT}s (log: $DOVECOT_LOG)"
  }
}

dovecot_up() {
  local own_url="imap://127.0.0.1:$DOVECOT_IMAP_PORT"
  if [ -n "${IMAP_URL:-}" ] && [ "$IMAP_URL" != "$own_url" ]; then
    log "IMAP_URL is set; not managing dovecot"
    emit_export IMAP_URL "$IMAP_URL"
    [ -n "${LMTP_URL:-}" ] && emit_export LMTP_URL "$LMTP_URL"
    return 0
  fi
  dovecot_install
  dovecot_start
  emit_export IMAP_URL "$own_url"
  emit_export LMTP_URL "lmtp://127.0.0.1:$DOVECOT_LMTP_PORT"
  emit_export IMAP_PASSWORD "$DOVECOT_PASSWORD"
}

dovecot_down() {
  if [ -f "$DOVECOT_CONF" ] && command -v doveadm >/dev/null 2>&1 && dovecot_ping; then
    log "stopping dovecot ($DOVECOT_CONF)"
    svc_run doveadm -c "$DOVECOT_CONF" stop >&2 2>/dev/null || log "WARNING: doveadm stop failed"
  else
    log "dovecot on 127.0.0.1:$DOVECOT_IMAP_PORT is not running"
  fi
  return 0
}
