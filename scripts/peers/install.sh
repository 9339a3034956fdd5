#!/usr/bin/env bash
# Installs the real peers the end-to-end tests run against, from Debian's
# packages: Cyrus IMAP with CalDAV (notification collections) and aiosmtpd
# (an SMTP server that stores what it receives in a Maildir). Idempotent and
# quick when everything is there. Needs root (or sudo) for apt-get.
set -euo pipefail

need=()
command -v /usr/lib/cyrus/bin/master >/dev/null 2>&1 || need+=(cyrus-imapd cyrus-caldav)
command -v saslpasswd2 >/dev/null 2>&1 || need+=(sasl2-bin)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)

if [ ${#need[@]} -eq 0 ]; then
  echo "peers: all installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "peers: installing ${need[*]}"
$SUDO apt-get update -qq
# policy-rc.d keeps apt from starting the daemons; the tests start their own.
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "peers: installed"
