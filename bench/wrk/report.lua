-- Prints one JSON line at the end of a wrk run: latency percentiles (ms), requests per second,
-- and the errors, non-2xx/3xx answers included (a run with any is void).
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "rps": %.2f, "p50": %.3f, "p90": %.3f, "p95": %.3f, "p99": %.3f, ' ..
    '"errors": %d}\n',
    summary.requests, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    errors.connect + errors.read + errors.write + errors.timeout + errors.status
  ))
end
