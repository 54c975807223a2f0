-- wrk script of scripts/load: POST the publicTracking query whose JSON body
-- is in the file named by LOAD_BODY, and print one line of figures for
-- scripts/load (rate, latency percentiles in microseconds, errors). The
-- answers are checked by scripts/load before and after the run, not here:
-- reading every body in Lua would slow the client down.
-- With LOAD_PAGE set it GETs the URL (the customer page) instead. A
-- browser's User-Agent, so that opens are counted as a customer's would be.
wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
if (os.getenv("LOAD_PAGE") or "") == "" then
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  local f = assert(io.open(os.getenv("LOAD_BODY"), "rb"))
  wrk.body = f:read("*a")
  f:close()
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
