-- One sign-up from an address, counted in a fixed window.
-- KEYS[1] the address's counter   ARGV[1] the window (ms)
-- Returns { sign-ups in this window, including this one; ms until the window ends }.
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return { n, ttl }
