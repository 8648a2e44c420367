-- One rate-limit decision, atomic in Redis.
-- KEYS[1]: the bucket or quota counter.
-- Rate:  ARGV = "r", interval_us, burst, peek ("1" = do not spend)
--   returns {1, remaining, reset_us} or {0, retry_us, reset_us}
-- Quota: ARGV = "q", max, window_end_unix_ms, peek
--   returns {allowed, used_before_this_request, 0}
local key = KEYS[1]
local peek = ARGV[4] == "1"
if ARGV[1] == "q" then
  local max = tonumber(ARGV[2])
  local used = tonumber(redis.call("GET", key) or "0")
  if used + 1 > max then
    return {0, used, 0}
  end
  if not peek then
    redis.call("INCR", key)
    if used == 0 then
      redis.call("PEXPIREAT", key, ARGV[3])
    end
  end
  return {1, used, 0}
end
-- GCRA with the server's clock, in microseconds (exact in a double).
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[2])
local tau = interval * tonumber(ARGV[3])
local tat = tonumber(redis.call("GET", key) or "0")
if tat < now then
  tat = now
end
local nxt = tat + interval
if nxt - now > tau then
  return {0, nxt - tau - now, tat - now}
end
if not peek then
  -- The state is worthless once tat has passed: expire it then.
  redis.call("SET", key, string.format("%d", nxt), "PX", math.floor((nxt - now) / 1000) + 1)
end
return {1, math.floor((tau - (nxt - now)) / interval), nxt - now}
