-- wrk script: PutRecord of smart-meter records with random identifiers (out
-- of 1M) to both stores. init() formats 50,000 requests once (random ids,
-- increasing event times) and request() cycles through them, so the client
-- spends its CPU sending rather than building strings (wrk shares the
-- machine's cores with the server). A repeated request has an equal event
-- time, which still writes (the newer write wins) and always logs offline.
local reqs = {}
local n = 0
local i = 0

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6) + tonumber(tostring({}):sub(8), 16))
  for k = 1, 50000 do
    local id = string.format("BENCH%07d", math.random(1000000))
    local t = string.format("2026-01-01T%02d:%02d:%02dZ", math.floor(k / 3600) % 24,
      math.floor(k / 60) % 60, k % 60)
    local body = '{"Record":[' ..
      '{"FeatureName":"household_id","ValueAsString":"' .. id .. '"},' ..
      '{"FeatureName":"day","ValueAsString":"2026-01-01"},' ..
      '{"FeatureName":"energy_median","ValueAsString":"0.0705"},' ..
      '{"FeatureName":"energy_mean","ValueAsString":"0.081646"},' ..
      '{"FeatureName":"energy_max","ValueAsString":"0.194"},' ..
      '{"FeatureName":"energy_count","ValueAsString":"48"},' ..
      '{"FeatureName":"energy_std","ValueAsString":"0.048888"},' ..
      '{"FeatureName":"energy_sum","ValueAsString":"3.919"},' ..
      '{"FeatureName":"energy_min","ValueAsString":"0.0"},' ..
      '{"FeatureName":"event_time","ValueAsString":"' .. t .. '"}]}'
    reqs[k] = wrk.format("PUT", "/FeatureGroup/smart-meter",
      {["Content-Type"] = "application/json"}, body)
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
