#!/usr/bin/env bash
# Debian's Chromium for the browser tests (playwright-core drives it); never a downloaded browser.
# zbar-tools (zbarimg) decodes the WhatsApp link QR codes the CLI and the admin console draw.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/zbarimg ]; then exit 0; fi
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core zbar-tools >&2
