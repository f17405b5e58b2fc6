-- Admit one order attempt (see lib/admit.lua) and mark its idempotency key in flight.
-- KEYS: rate-limit key, and the idempotency key when the request carries one.
-- ARGV: rate-limit gap (ms, 0 = none), fingerprint (64 hex), in-flight lifetime (ms), the
--       reservation id that owns the marker.
-- Returns {'ok'} or admit's answer.
local idem = KEYS[2]
local answer = admit(KEYS[1], idem, tonumber(ARGV[1]), ARGV[2])
if answer then return answer end
if idem then redis.call('SET', idem, 'F:' .. ARGV[2] .. ARGV[4], 'PX', ARGV[3]) end
return {'ok'}
