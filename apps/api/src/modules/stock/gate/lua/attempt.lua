-- One order attempt in one round trip: admission (lib/admit.lua), then the reservation of every
-- line (lib/reserve.lua). A refusal for stock or cap is final, so it is stored as the key's
-- answer right here; anything else leaves the key in flight until the order's fate is known.
-- KEYS: rate-limit key, [idempotency key], then stock, holds, cap of each line's product.
-- ARGV: gap (ms), fingerprint, in-flight lifetime (ms), answer lifetime (ms), reservation id,
--       user id, 1 when an idempotency key is given else 0, then quantity, limit, product id
--       of each line.
-- The in-flight marker names the reservation, so that a request that gives up can drop its
-- own marker and no other.
-- Returns admit's answer (first element a string) or reserve's (first element a number).
local keyed = ARGV[7] == '1'
local idem = keyed and KEYS[2] or nil
local answer = admit(KEYS[1], idem, tonumber(ARGV[1]), ARGV[2])
if answer then return answer end
local result = reserve(KEYS, keyed and 3 or 2, ARGV, 8, ARGV[5], ARGV[6])
if idem then
  local reason = result[2]
  if reason == 'insufficient' or reason == 'limit' then
    local i = result[3]
    local refusal = cjson.encode({
      refusal = reason,
      product_id = result[5],
      requested = tonumber(ARGV[8 + 3 * (i - 1)]),
      limit = tonumber(ARGV[9 + 3 * (i - 1)]),
      value = result[4],
    })
    redis.call('SET', idem, 'A:' .. ARGV[2] .. refusal, 'PX', ARGV[4])
  else
    redis.call('SET', idem, 'F:' .. ARGV[2] .. ARGV[5], 'PX', ARGV[3])
  end
end
return result
