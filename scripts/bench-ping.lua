-- wrk script for scripts/bench.sh (BENCH_CLIENT=wrk): one-href pings for
-- distinct principals, each thread with its own prefix. The token comes
-- from the environment (NOTIFYD_BENCH_TOKEN).
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  prefix = "/principals/users/wrk-" .. os.time() .. "-" .. id .. "-"
  token = os.getenv("NOTIFYD_BENCH_TOKEN")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local body = '{"system":"bench","token":"' .. token .. '","hrefs":["' .. prefix .. counter .. '"]}'
  return wrk.format(nil, "/v1/notifications", nil, body)
end

function done(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("accepted/s    %.0f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("errors        %d\n", bad))
  io.write(string.format("latency       p50 %.3fms  p90 %.3fms  p99 %.3fms  max %.3fms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
