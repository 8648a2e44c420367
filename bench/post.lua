-- wrk script: POST the same 1 KB, 20-field JSON body on every request and
-- print one machine-readable summary line for run.sh. There is deliberately
-- no response() callback: defining one makes wrk parse every response in
-- Lua, which costs the load-generator core (shared with the backend).
-- Statuses are checked once with curl before each run instead; non-2xx
-- answers are counted by wrk in errors.status.
-- Usage: wrk ... -s post.lua URL -- /path/to/body.json [extra headers as Name:Value]
local body_file = "body.json"

function init(args)
  if args[1] then body_file = args[1] end
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  for i = 2, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors=%d non2xx=%d p50_us=%d p99_us=%d\n",
    summary.requests, summary.duration,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout, summary.errors.status,
    latency:percentile(50), latency:percentile(99)))
end
