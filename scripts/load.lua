-- wrk script of scripts/load. Environment:
--   LOAD_METHOD  GET or POST (default POST)
--   LOAD_PATH    the URL path (default: the one wrk was given)
--   LOAD_BODY    file holding the request body (POST)
--   LOAD_SLUGS   file of slugs, one a line: each request names one, "%s"
--                in the URL path or in the body standing for it; each
--                thread draws from its own share of the slugs
--   LOAD_ORDER   "file": walk the shares in the file's order, so that
--                together the threads name every slug once before any
--                twice; otherwise a uniformly random slug per request
-- It prints one line of figures for scripts/load (rate, latency
-- percentiles in microseconds, errors). Answers are checked by
-- scripts/load, not here: reading every body in Lua would slow the client.
local method = os.getenv("LOAD_METHOD") or "POST"
local body_template
local body_file = os.getenv("LOAD_BODY")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  body_template = f:read("*a")
  f:close()
end
local slugs_file = os.getenv("LOAD_SLUGS")
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("thread_id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

local slugs, n, i = nil, 0, 0
local os_order = os.getenv("LOAD_ORDER")
local path_template

function init(args)
  path_template = os.getenv("LOAD_PATH") or wrk.path
  if path_template == "" then
    path_template = wrk.path
  end
  local count = tonumber(os.getenv("LOAD_THREADS") or "2")
  if slugs_file and slugs_file ~= "" then
    slugs = {}
    local k = 0
    for line in io.lines(slugs_file) do
      if k % count == thread_id then
        table.insert(slugs, line)
      end
      k = k + 1
    end
    n = #slugs
    math.randomseed(os.time() * 1000 + thread_id)
  end
  if method == "POST" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if slugs == nil then
    return wrk.format(method, path_template, nil, body_template)
  end
  local slug
  if os_order == "file" then
    i = i % n + 1
    slug = slugs[i]
  else
    slug = slugs[math.random(n)]
  end
  local path = string.gsub(path_template, "%%s", slug)
  local body = nil
  if body_template then
    body = string.gsub(body_template, "%%s", slug)
  end
  return wrk.format(method, path, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "LOAD requests=%d seconds=%.3f rps=%.1f p50_us=%d p90_us=%d p99_us=%d max_us=%d socket_errors=%d non_2xx=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
