#!/usr/bin/env bash
# A private Cyrus IMAP 3.6 instance with CalDAV and notification collections,
# for notifyd's end-to-end tests and benchmarks.
#
#   scripts/peers/cyrus.sh start DIR IMAP_PORT HTTP_PORT
#   scripts/peers/cyrus.sh stop DIR
#
# start on an empty (or missing) DIR bootstraps a fresh instance there: its
# own imapd.conf and cyrus.conf, a private sasldb, mailboxes, DAV homes and
# ACLs. start on a DIR this script bootstrapped before restarts the same
# instance (same ports and data; the ports given must match). stop kills the
# master by its pid, waits for it to exit and for its ports to be released.
#
# Users (password = name + "pw"): admin (Cyrus admin), notifier (the service
# account notifyd syncs with) and the users in $USERS (whitespace- or
# comma-separated; default "fred wilma carol dave"). Each user gets a DAV home
# (calendars and the notification collection are auto-created), and notifier
# gets ACLs lrswipkxtecdn on user/NAME/#notifications and lr on
# user/NAME/#calendars. For a benchmark with many principals:
#   USERS="$(seq -f 'u%03g' 1 200)" scripts/peers/cyrus.sh start DIR 11143 18008
#
# PING_CONF=FILE (at the first start) also sets up the recipe that makes
# Cyrus ping notifyd on every change to a calendar or a notification
# collection (docs/reminders.md): Cyrus's notify daemon with the event
# notifier "external" running contrib/cyrus/notifyd-ping, copied to
# DIR/notifyd-ping, with FILE's settings copied to DIR/notifyd-ping.conf
# (owner cyrus, mode 0600: it holds the token; rewrite it at any time).
# PING_GROUPS sets its event_groups ("mailbox" by default; "message" is the
# lighter choice docs/reminders.md describes).
#
# Listens on 127.0.0.1 only. Run as root: the Cyrus master drops to the
# "cyrus" user, so DIR and every directory above it must be traversable by
# it. Cyrus logs only to syslog (there is no log file under DIR). Needs
# Debian's cyrus-imapd, cyrus-caldav and sasl2-bin (scripts/peers/install.sh)
# and /usr/bin/python3 (its imaplib and http.client drive the provisioning).
# Prints nothing secret (the passwords above are fixed test values anyway).
set -euo pipefail

MASTER=/usr/lib/cyrus/bin/master
PY=/usr/bin/python3
PING_PROGRAM=$(cd "$(dirname "$0")/../.." && pwd)/contrib/cyrus/notifyd-ping

die() { echo "cyrus.sh: $*" >&2; exit 1; }

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

port_ok() { [[ $1 =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }

# listening PORT: true while something accepts connections on 127.0.0.1:PORT.
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

master_alive() {
  local pid
  pid=$(cat "$1/master.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file may name an unrelated process: check it is our master.
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "-C $1/imapd.conf"
}

start_master() {
  local dir=$1 imap=$2 http=$3
  listening "$imap" && die "port $imap is already in use"
  listening "$http" && die "port $http is already in use"
  rm -f "$dir/master.pid"
  "$MASTER" -C "$dir/imapd.conf" -M "$dir/cyrus.conf" -p "$dir/master.pid" -d
  local i
  for i in $(seq 1 200); do
    if listening "$imap" && listening "$http" && [ -s "$dir/master.pid" ]; then
      return 0
    fi
    sleep 0.05
  done
  die "Cyrus did not listen on 127.0.0.1:$imap and :$http within 10s (Cyrus logs to syslog only)"
}

write_config() {
  local dir=$1 imap=$2 http=$3
  cat >"$dir/imapd.conf" <<CONF
configdirectory: $dir/conf
partition-default: $dir/spool
defaultpartition: default
proc_path: $dir/run/proc
mboxname_lockpath: $dir/run/lock
lmtpsocket: $dir/run/socket/lmtp
idlesocket: $dir/run/socket/idle
notifysocket: $dir/run/socket/notify
servername: localhost
admins: admin
unixhierarchysep: yes
allowplaintext: yes
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: $dir/sasldb2
sasl_mech_list: PLAIN LOGIN
httpmodules: caldav
calendarprefix: #calendars
addressbookprefix: #addressbooks
davnotificationsprefix: #notifications
caldav_create_default: yes
caldav_create_sched: yes
caldav_create_attach: no
CONF
  # Cyrus's notify daemon, for the notifyd-ping recipe (PING_CONF).
  local notify=""
  if [ -n "${PING_CONF:-}" ]; then
    notify="notify cmd=\"notifyd -C $dir/imapd.conf\" listen=\"$dir/run/socket/notify\" proto=\"udp\" prefork=1"
  fi
  cat >"$dir/cyrus.conf" <<CONF
START {
  recover cmd="ctl_cyrusdb -r -C $dir/imapd.conf"
}
SERVICES {
  $notify
  imap cmd="imapd -C $dir/imapd.conf" listen="127.0.0.1:$imap" prefork=0
  http cmd="httpd -C $dir/imapd.conf" listen="127.0.0.1:$http" prefork=0
}
EVENTS {
}
DAEMON {
}
CONF
  echo "$imap $http" >"$dir/ports"
  if [ -n "${PING_CONF:-}" ]; then
    write_ping_config "$dir"
  fi
}

# write_ping_config DIR: the notifyd-ping recipe (contrib/cyrus/notifyd-ping).
# Every change to a mailbox makes a MailboxModseq event (event_groups:
# mailbox; PING_GROUPS=message: MessageNew, MessageExpunge...); Cyrus's
# notify daemon runs the program for each one, which pings notifyd for
# those of calendars and notification collections.
write_ping_config() {
  local dir=$1
  install -m 0755 "$PING_PROGRAM" "$dir/notifyd-ping"
  install -m 0600 "$PING_CONF" "$dir/notifyd-ping.conf"
  cat >>"$dir/imapd.conf" <<CONF
event_notifier: external
event_groups: ${PING_GROUPS:-mailbox}
notify_external: $dir/notifyd-ping
CONF
}

cmd_start() {
  [ $# -eq 3 ] || usage
  local dir=$1 imap=$2 http=$3
  port_ok "$imap" || die "bad IMAP port: $imap"
  port_ok "$http" || die "bad HTTP port: $http"
  [ "$(id -u)" -eq 0 ] || die "must run as root (the Cyrus master drops to the cyrus user)"
  [ -x "$MASTER" ] || die "$MASTER missing: run scripts/peers/install.sh"
  command -v saslpasswd2 >/dev/null || die "saslpasswd2 missing: run scripts/peers/install.sh"
  if [ -n "${PING_CONF:-}" ]; then
    [ -r "$PING_CONF" ] || die "PING_CONF: cannot read $PING_CONF"
    [ -r "$PING_PROGRAM" ] || die "$PING_PROGRAM missing"
    command -v curl >/dev/null || die "curl missing (notifyd-ping needs it)"
    [[ ${PING_GROUPS:-mailbox} =~ ^[a-z]+( [a-z]+)*$ ]] || die "bad PING_GROUPS: $PING_GROUPS (e.g. mailbox, or message)"
  fi
  [ -x "$PY" ] || die "$PY missing"
  id cyrus >/dev/null 2>&1 || die "no cyrus user: run scripts/peers/install.sh"
  local users
  users=$(echo "${USERS:-fred wilma carol dave}" | tr ',' ' ' | xargs -n1 | sort -u | xargs)
  local u
  for u in $users; do
    [[ $u =~ ^[a-z0-9][a-z0-9._-]{0,63}$ ]] || die "bad user name: $u (lower-case letters, digits, . _ -)"
    case $u in admin|notifier) die "$u is always created; do not list it in USERS" ;; esac
  done

  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd -P)
  # Unix socket paths are limited to 107 bytes.
  [ ${#dir} -le 80 ] || die "DIR path too long for Cyrus's sockets (max 80 bytes): $dir"

  if [ -f "$dir/.notifyd-cyrus" ]; then
    # Restart of an instance bootstrapped before: same ports, same data.
    master_alive "$dir" && die "already running in $dir (master pid $(cat "$dir/master.pid"))"
    [ "$(cat "$dir/ports")" = "$imap $http" ] || die "$dir was set up for ports $(cat "$dir/ports"), not $imap $http"
    start_master "$dir" "$imap" "$http"
    echo "cyrus restarted: http://127.0.0.1:$http imap 127.0.0.1:$imap master pid $(cat "$dir/master.pid") data $dir"
    return 0
  fi
  [ -z "$(ls -A "$dir")" ] || die "$dir is neither empty nor an instance made by this script"

  mkdir -p "$dir"/{conf,spool,run/socket,run/proc,run/lock}
  write_config "$dir" "$imap" "$http"
  for u in admin notifier $users; do
    printf '%s' "${u}pw" | saslpasswd2 -p -c -f "$dir/sasldb2" -u localhost "$u"
  done
  chown -R cyrus:mail "$dir"
  chmod 0750 "$dir"
  # The master runs as cyrus: every directory above DIR must let it through.
  if ! runuser -u cyrus -- test -w "$dir/conf"; then
    die "the cyrus user cannot reach $dir (a parent directory is not traversable, e.g. mode 0700)"
  fi
  start_master "$dir" "$imap" "$http"

  USERS_LIST="$users" "$PY" - "$imap" "$http" <<'PY'
import base64, http.client, imaplib, os, sys, threading

imap_port, http_port = int(sys.argv[1]), int(sys.argv[2])
users = os.environ["USERS_LIST"].split()

m = imaplib.IMAP4("127.0.0.1", imap_port)
m.login("admin", "adminpw")
for u in ["notifier"] + users:
    typ, data = m.create("user/" + u)
    if typ != "OK":
        sys.exit("cyrus.sh: IMAP CREATE user/%s: %s %s" % (u, typ, data))

# A user's DAV home, with its #calendars and #notifications mailboxes, is
# created when the user first touches it: do that once per user, over a few
# keep-alive connections (Cyrus accepts another user's credentials on the
# same connection).
BODY = '<?xml version="1.0" encoding="utf-8"?><D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>'
errors = []

def touch(batch):
    c = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)
    for u in batch:
        auth = base64.b64encode(("%s:%spw" % (u, u)).encode()).decode()
        c.request("PROPFIND", "/dav/calendars/user/%s/" % u, body=BODY, headers={
            "Authorization": "Basic " + auth, "Depth": "0",
            "Content-Type": "application/xml; charset=utf-8"})
        r = c.getresponse()
        r.read()
        if r.status != 207:
            errors.append("PROPFIND /dav/calendars/user/%s/: %d" % (u, r.status))
    c.close()

n = 4
threads = [threading.Thread(target=touch, args=(users[i::n],)) for i in range(n)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if errors:
    sys.exit("cyrus.sh: " + "; ".join(errors[:5]))

for u in users:
    for mb, rights in (("user/%s/#notifications" % u, "lrswipkxtecdn"),
                       ("user/%s/#calendars" % u, "lr")):
        typ, data = m.setacl(mb, "notifier", rights)
        if typ != "OK":
            sys.exit("cyrus.sh: SETACL %s notifier: %s %s" % (mb, typ, data))
m.logout()
PY
  touch "$dir/.notifyd-cyrus"
  local count
  count=$(echo "$users" | wc -w)
  echo "cyrus ready: http://127.0.0.1:$http imap 127.0.0.1:$imap master pid $(cat "$dir/master.pid") users $count data $dir"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(cd "$1" 2>/dev/null && pwd -P) || die "no such directory: $1"
  if ! master_alive "$dir"; then
    echo "cyrus not running in $dir"
    return 0
  fi
  local pid i
  pid=$(cat "$dir/master.pid")
  kill -TERM "$pid"
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "cyrus.sh: master $pid still alive after 10s; sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  # Wait for the service children (which inherit the listening sockets) to go.
  local p
  if [ -f "$dir/ports" ]; then
    for p in $(cat "$dir/ports"); do
      for i in $(seq 1 200); do
        listening "$p" || break
        sleep 0.05
      done
      listening "$p" && die "port $p is still in use after the master exited"
    done
  fi
  rm -f "$dir/master.pid"
  echo "cyrus stopped (master pid $pid)"
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  *) usage ;;
esac
