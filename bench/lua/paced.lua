-- Appended to a load script: each connection pauses about PACE_MS (bench/wrk.py substitutes it) before its
-- next request, so the offered rate is about connections / (pause + latency), whatever the server does.
function delay()
  return math.random(math.floor(PACE_MS / 2), math.floor(PACE_MS * 3 / 2))
end
