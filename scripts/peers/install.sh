#!/usr/bin/env bash
# Installs the real peers the end-to-end tests run against, from Debian's
# packages: Cyrus IMAP with CalDAV (notification collections) and aiosmtpd
# (an SMTP server that stores what it receives in a Maildir), Prosody (an
# XMPP server, see prosody.sh), PostgreSQL 15 (see postgres.sh), Radicale and
# Xandikos (two more CalDAV servers, for the reminder tests: radicale.sh,
# xandikos.sh), Chromium (headless, driving the preference page); and from npm:
# Prism (@stoplight/prism-cli), which mocks Twilio's API from Twilio's
# OpenAPI document (into $NOTIFYD_PEERS_CACHE/prism, default
# ~/.cache/notifyd-peers/prism; see prism.sh). Idempotent and quick when
# everything is there. Needs root (or sudo) for apt-get.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PRISM_VERSION=5.16.0
cache="${NOTIFYD_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/notifyd-peers}"

need=()
command -v /usr/lib/cyrus/bin/master >/dev/null 2>&1 || need+=(cyrus-imapd cyrus-caldav)
command -v saslpasswd2 >/dev/null 2>&1 || need+=(sasl2-bin)
/usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v prosody >/dev/null 2>&1 || need+=(prosody) # XMPP server for the IM channel (prosody.sh)
[ -x /usr/lib/postgresql/15/bin/pg_ctl ] || need+=(postgresql-15) # the scale-out database (postgres.sh)
command -v radicale >/dev/null 2>&1 || need+=(radicale) # CalDAV server for the reminder tests (radicale.sh)
command -v xandikos >/dev/null 2>&1 || need+=(xandikos) # CalDAV server for the reminder tests (xandikos.sh)
[ -x /usr/bin/chromium ] || need+=(chromium) # headless browser for the preference page tests (peertest.Chromium)
prism_missing=false
"$here/prism.sh" bin >/dev/null 2>&1 || prism_missing=true
if $prism_missing; then
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
fi

if [ ${#need[@]} -eq 0 ] && ! $prism_missing; then
  echo "peers: all installed"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#need[@]} -gt 0 ]; then
  echo "peers: installing ${need[*]}"
  $SUDO apt-get update -qq
  # policy-rc.d keeps apt from starting the daemons; the tests start their own.
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if $prism_missing; then
  echo "peers: installing @stoplight/prism-cli@$PRISM_VERSION into $cache/prism"
  mkdir -p "$cache/prism"
  # Its package.json asks for node >= 24.18, but it was checked to work on
  # node 20 (npm only warns).
  npm install --prefix "$cache/prism" --no-audit --no-fund --no-save --loglevel=error \
    "@stoplight/prism-cli@$PRISM_VERSION" >/dev/null
  "$here/prism.sh" bin >/dev/null
fi
echo "peers: installed"
