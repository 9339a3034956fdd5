# Shared by the peer scripts (sourced, not run).

# alive PID: the process runs (a zombie does not count).
alive() {
  kill -0 "$1" 2>/dev/null || return 1
  if [ -r "/proc/$1/status" ] && grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; then
    return 1
  fi
  return 0
}

# stop_pidfile FILE STEP: ends the process whose pid FILE holds (SIGTERM,
# then SIGKILL if it still runs after 100 waits of STEP seconds) and
# removes FILE.
stop_pidfile() {
  local file="$1" step="$2" pid
  [ -f "$file" ] || return 0
  pid="$(cat "$file")"
  if [ -n "$pid" ] && alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      alive "$pid" || break
      sleep "$step"
    done
    if alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$file"
}

# port_taken PORT: something accepts connections on 127.0.0.1:PORT.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
