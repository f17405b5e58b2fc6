-- Admit one order attempt of one user: idempotent replay, then the rate limit, then mark the
-- idempotency key in flight. One round trip; both keys share the user's hash tag.
-- KEYS: rate-limit key, and the idempotency key when the request carries one
-- ARGV: rate-limit gap (ms, 0 = none), request fingerprint (64 hex), in-flight lifetime (ms)
-- Stored values: 'F:<fingerprint>' while in flight, 'A:<fingerprint><answer json>' after.
-- Returns {'ok'} | {'limited', ms to wait} | {'in_flight'} | {'reused'} | {'replay', answer}
if #KEYS == 2 then
  local stored = redis.call('GET', KEYS[2])
  if stored then
    if string.sub(stored, 3, 66) ~= ARGV[2] then return {'reused'} end
    if string.sub(stored, 1, 1) == 'F' then return {'in_flight'} end
    return {'replay', string.sub(stored, 67)}
  end
end
local gap = tonumber(ARGV[1])
if gap > 0 and not redis.call('SET', KEYS[1], '1', 'NX', 'PX', gap) then
  return {'limited', redis.call('PTTL', KEYS[1])}
end
if #KEYS == 2 then redis.call('SET', KEYS[2], 'F:' .. ARGV[2], 'PX', ARGV[3]) end
return {'ok'}
