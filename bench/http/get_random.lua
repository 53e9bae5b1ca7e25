-- wrk script: GetRecord for a random record identifier of the loaded set.
-- The identifiers come from the file named by $IDS (one per line). done()
-- prints the latency percentiles wrk --latency does not (p99.9).
local ids = {}

function init(args)
  local f = assert(io.open(os.getenv("IDS"), "r"))
  for line in f:lines() do ids[#ids + 1] = line end
  f:close()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

local fg = os.getenv("FG") or "smart-meter"

function request()
  local id = ids[math.random(#ids)]
  return wrk.format("GET", "/FeatureGroup/" .. fg .. "?RecordIdentifierValueAsString=" .. id)
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p99=%d p999=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
  io.write(string.format("ERRORS status=%d socket=%d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
