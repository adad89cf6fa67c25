-- wrk script of bench/load.py: each request GETs a path drawn at random from a file of paths, one per
-- line, and done() prints one line "LOAD-JSON {...}": requests, duration, latency percentiles, socket
-- errors and the count of each HTTP status.
--
--     wrk -t1 -c8 -d60s --timeout 30s -s bench/load.lua http://127.0.0.1:PORT -- PATHS_FILE SEED

local threads = {}

function setup(thread)
   thread:set("id", #threads + 1)
   table.insert(threads, thread)
end

function init(args)
   paths = {}
   for line in io.lines(args[1]) do
      if line ~= "" then
         paths[#paths + 1] = line
      end
   end
   math.randomseed((tonumber(args[2]) or 1) * 1000 + id)
   statuses = {}
   -- as a browser asks: the server compresses what it sends
   wrk.headers["Accept-Encoding"] = "gzip"
end

function request()
   return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      for status, n in pairs(thread:get("statuses") or {}) do
         counts[status] = (counts[status] or 0) + n
      end
   end
   local parts = {}
   for status, n in pairs(counts) do
      parts[#parts + 1] = string.format('"%d": %d', status, n)
   end
   local e = summary.errors
   io.write(string.format(
      'LOAD-JSON {"requests": %d, "duration_us": %d, "bytes": %d, "latency_us": {"p50": %d, "p90": %d, '
         .. '"p99": %d, "max": %d, "mean": %.1f}, "errors": {"connect": %d, "read": %d, "write": %d, '
         .. '"timeout": %d, "status": %d}, "statuses": {%s}}\n',
      summary.requests, summary.duration, summary.bytes,
      latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
      e.connect, e.read, e.write, e.timeout, e.status, table.concat(parts, ", ")))
end
