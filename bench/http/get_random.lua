-- wrk script: GetRecord for random record identifiers of the loaded set.
-- The identifiers come from the file named by $IDS (one per line). init()
-- draws 100,000 of them at random and formats their requests once, so that
-- the client spends its time sending rather than building strings (wrk runs
-- on the same two cores as the server). done() prints the percentiles that
-- wrk --latency does not (p99.9).
local reqs = {}
local n = 0
local i = 0

function init(args)
  local ids = {}
  local f = assert(io.open(os.getenv("IDS"), "r"))
  for line in f:lines() do ids[#ids + 1] = line end
  f:close()
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):sub(8), 16))
  local fg = os.getenv("FG") or "smart-meter"
  for k = 1, 100000 do
    reqs[k] = wrk.format("GET", "/FeatureGroup/" .. fg .. "?RecordIdentifierValueAsString="
      .. ids[math.random(#ids)])
  end
  n = #reqs
  i = math.random(n)
end

function request()
  i = i + 1
  if i > n then i = 1 end
  return reqs[i]
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p99=%d p999=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
  io.write(string.format("ERRORS status=%d socket=%d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
