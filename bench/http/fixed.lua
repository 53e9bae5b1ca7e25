-- wrk script for the fixed-body peer (nginx): only prints p50/p99/p99.9.
function done(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p99=%d p999=%d\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
  io.write(string.format("ERRORS status=%d socket=%d\n", summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
