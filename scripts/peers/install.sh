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
#
#   install.sh              every peer (make test)
#   install.sh PEER...      only these: cyrus smtp prosody postgres radicale
#                           xandikos chromium prism (make demo: cyrus smtp)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PRISM_VERSION=5.16.0
cache="${NOTIFYD_PEERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/notifyd-peers}"

peers=" ${*:-cyrus smtp prosody postgres radicale xandikos chromium prism} "
for p in $peers; do
  case $p in
    cyrus|smtp|prosody|postgres|radicale|xandikos|chromium|prism) ;;
    *) echo "install.sh: unknown peer $p (cyrus smtp prosody postgres radicale xandikos chromium prism)" >&2; exit 2 ;;
  esac
done
# want PEER: PEER is to be installed.
want() { [[ $peers == *" $1 "* ]]; }

need=()
if want cyrus; then
  command -v /usr/lib/cyrus/bin/master >/dev/null 2>&1 || need+=(cyrus-imapd cyrus-caldav)
  command -v saslpasswd2 >/dev/null 2>&1 || need+=(sasl2-bin)
  command -v curl >/dev/null 2>&1 || need+=(curl) # notifyd-ping, Cyrus's pings
fi
if want smtp; then
  /usr/bin/python3 -c 'import aiosmtpd' >/dev/null 2>&1 || need+=(python3-aiosmtpd)
  command -v openssl >/dev/null 2>&1 || need+=(openssl)
fi
want prosody && { command -v prosody >/dev/null 2>&1 || need+=(prosody); } # XMPP server for the IM channel (prosody.sh)
want postgres && { [ -x /usr/lib/postgresql/15/bin/pg_ctl ] || need+=(postgresql-15); } # the scale-out database (postgres.sh)
want radicale && { command -v radicale >/dev/null 2>&1 || need+=(radicale); } # CalDAV server for the reminder tests (radicale.sh)
want xandikos && { command -v xandikos >/dev/null 2>&1 || need+=(xandikos); } # CalDAV server for the reminder tests (xandikos.sh)
want chromium && { [ -x /usr/bin/chromium ] || need+=(chromium); } # headless browser for the preference page tests (peertest.Chromium)
prism_missing=false
if want prism; then
  "$here/prism.sh" bin >/dev/null 2>&1 || prism_missing=true
fi
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
