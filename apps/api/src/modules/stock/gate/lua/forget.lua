-- Drop an idempotency key's in-flight marker, so that a retry with the same key is processed
-- afresh. Given a reservation id, only the marker that reservation set is dropped: a newer
-- attempt's marker, or an answer the key already keeps, stays.
-- KEYS: the idempotency key. ARGV: reservation id, or '' for whatever the key holds.
-- Returns 1 when something was dropped, else 0.
local stored = redis.call('GET', KEYS[1])
if not stored then return 0 end
if ARGV[1] == '' then return redis.call('DEL', KEYS[1]) end
if string.sub(stored, 1, 1) == 'F' and string.sub(stored, 67) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
