-- Admission of one order attempt: the idempotent replay first, then the per-user rate limit.
-- Stored idempotency values: 'F:<fingerprint><reservation id>' while in flight,
-- 'A:<fingerprint><answer>' after.
-- Returns nil when the attempt may go on, else the answer:
--   {'reused'} | {'in_flight'} | {'replay', answer} | {'limited', ms to wait}
local function admit(rate_key, idem_key, gap, fingerprint)
  if idem_key then
    local stored = redis.call('GET', idem_key)
    if stored then
      if string.sub(stored, 3, 66) ~= fingerprint then return {'reused'} end
      if string.sub(stored, 1, 1) == 'F' then return {'in_flight'} end
      return {'replay', string.sub(stored, 67)}
    end
  end
  if gap > 0 and not redis.call('SET', rate_key, '1', 'NX', 'PX', gap) then
    return {'limited', redis.call('PTTL', rate_key)}
  end
  return nil
end
