-- Admit one sign-in attempt, or say how long to wait. Counted before the password is checked,
-- so parallel guesses cannot slip past the limit between the check and the count.
--
-- KEYS[1] the (account, address) pair   KEYS[2] the pair's "signed in from here" mark
-- KEYS[3] the account                   KEYS[4] the address (its /64 for IPv6)
-- ARGV    per counted scope, in the order pair, account, address: free attempts, first delay
--         (ms), longest delay (ms), how long the state is kept after the last attempt (ms)
--
-- Each scope is a hash {n = attempts counted, t = time of the last one}. Once n reaches the free
-- attempts, the next one waits base * 2^(n - free) ms after the last, up to the longest delay.
-- A pair that signed in before is trusted: only its own failures slow it, never the account's
-- or the address's. Returns {wait ms (0: admitted, counted), trusted (1 or 0)}.
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local trusted = redis.call('EXISTS', KEYS[2]) == 1

local scopes = { { key = KEYS[1], arg = 0 } }
if not trusted then
  scopes[2] = { key = KEYS[3], arg = 4 }
  scopes[3] = { key = KEYS[4], arg = 8 }
end

local wait = 0
for _, scope in ipairs(scopes) do
  local state = redis.call('HMGET', scope.key, 'n', 't')
  local n = tonumber(state[1] or '0')
  local free = tonumber(ARGV[scope.arg + 1])
  if n >= free then
    local delay = math.min(tonumber(ARGV[scope.arg + 2]) * 2 ^ math.min(n - free, 40),
      tonumber(ARGV[scope.arg + 3]))
    local left = tonumber(state[2] or '0') + delay - now
    if left > wait then wait = left end
  end
end
if wait > 0 then return { math.ceil(wait), trusted and 1 or 0 } end

for _, scope in ipairs(scopes) do
  redis.call('HINCRBY', scope.key, 'n', 1)
  redis.call('HSET', scope.key, 't', now)
  redis.call('PEXPIRE', scope.key, ARGV[scope.arg + 4])
end
return { 0, trusted and 1 or 0 }
