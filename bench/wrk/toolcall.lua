-- wrk script of atomcp's benchmark (bench/README.md): every request is a
-- JSON-RPC tools/call with its own id, a bearer token and, for stateful
-- servers, a session id; every answer is checked.
--
-- Settings come from the environment (the driver sets them):
--   BENCH_PARAMS    the tools/call params, JSON (required)
--   BENCH_TOKEN     bearer token (optional)
--   BENCH_SESSIONS  comma-separated session ids, one per wrk thread in turn (optional)
--   BENCH_PROTOCOL  MCP-Protocol-Version header (default 2025-11-25)
--
-- An answer counts as an error unless its status is 200 and its body holds
-- a JSON-RPC result that is not a tool error. done() prints one line,
-- "BENCH_RESULT {...}", with the counts and latency percentiles in
-- microseconds.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  counter = 0
  bad = 0
  first_bad = ""
  params = os.getenv("BENCH_PARAMS")
  if params == nil or params == "" then
    error("BENCH_PARAMS is not set")
  end
  local h = {
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json, text/event-stream",
    ["MCP-Protocol-Version"] = os.getenv("BENCH_PROTOCOL") or "2025-11-25",
  }
  local token = os.getenv("BENCH_TOKEN")
  if token ~= nil and token ~= "" then
    h["Authorization"] = "Bearer " .. token
  end
  local sessions = {}
  for s in string.gmatch(os.getenv("BENCH_SESSIONS") or "", "[^,]+") do
    table.insert(sessions, s)
  end
  if #sessions > 0 then
    h["Mcp-Session-Id"] = sessions[(tid - 1) % #sessions + 1]
  end
  headers = h
  prefix = '{"jsonrpc":"2.0","id":"' .. tid .. '-'
  suffix = '","method":"tools/call","params":' .. params .. '}'
end

function request()
  counter = counter + 1
  return wrk.format("POST", nil, headers, prefix .. counter .. suffix)
end

function response(status, hdrs, body)
  if status ~= 200
    or not string.find(body, '"result":', 1, true)
    or string.find(body, '"isError":true', 1, true)
    or string.find(body, '"error":{', 1, true) then
    bad = bad + 1
    if first_bad == "" then
      first_bad = status .. " " .. string.sub(body, 1, 300)
    end
  end
end

function done(summary, latency, requests)
  local app_errors, sample = 0, ""
  for _, t in ipairs(threads) do
    app_errors = app_errors + (t:get("bad") or 0)
    local fb = t:get("first_bad") or ""
    if sample == "" and fb ~= "" then
      sample = fb
    end
  end
  local e = summary.errors
  sample = string.gsub(sample, '[%c"\\]', " ")
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect_errors":%d,"read_errors":%d,' ..
    '"write_errors":%d,"status_errors":%d,"timeouts":%d,"app_errors":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f,"first_error":"%s"}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout, app_errors,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean, sample))
end
