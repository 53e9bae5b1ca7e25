-- wrk script: PutRecord of a smart-meter record with a random identifier
-- (out of 1M) and an increasing event time, to both stores.
local counter = 0

function init(args)
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
end

function request()
  counter = counter + 1
  local id = string.format("BENCH%07d", math.random(1000000))
  local t = string.format("2026-01-01T%02d:%02d:%02dZ", math.floor(counter / 3600) % 24,
    math.floor(counter / 60) % 60, counter % 60)
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
  return wrk.format("PUT", "/FeatureGroup/smart-meter", {["Content-Type"] = "application/json"}, body)
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p99=%d p999=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
  io.write(string.format("ERRORS status=%d socket=%d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
