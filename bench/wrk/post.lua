-- wrk script for bench/run.py: POST $KB_BODY as JSON on every request (keep-alive is wrk's
-- default), then print one JSON line "KB_RESULT {...}" with the totals and latency percentiles
-- so the runner does not have to parse wrk's human-readable report.
wrk.method = os.getenv("KB_METHOD") or "POST"
if wrk.method ~= "GET" then
  wrk.body = os.getenv("KB_BODY") or '{"model":"fast","prompt":"hi","max_tokens":1}'
  wrk.headers["Content-Type"] = "application/json"
end
local auth = os.getenv("KB_BEARER")
if auth and auth ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. auth
end

done = function(summary, latency, requests)
  local e = summary.errors
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do
    p[#p + 1] = string.format('"p%s":%.1f', tostring(q):gsub("%.", ""), latency:percentile(q))
  end
  io.write(string.format(
    'KB_RESULT {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},' ..
    '"latency_us":{"mean":%.1f,"max":%.1f,%s}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.mean, latency.max, table.concat(p, ",")))
end
