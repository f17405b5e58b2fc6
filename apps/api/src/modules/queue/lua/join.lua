-- A buyer joins a queue, or is put back at the place their signed ticket carries (after Redis
-- lost the queue). Idempotent per user: a second join answers the first one's ticket.
-- KEYS[1] tickets  KEYS[2] line
-- ARGV[1] user id  ARGV[2] score  ARGV[3] joined at (ms)
-- Returns { 1 when this call added the buyer, "score,joinedAt" of their ticket }.
local known = redis.call('HGET', KEYS[1], ARGV[1])
if known then return { 0, known } end
local ticket = ARGV[2] .. ',' .. ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], ticket)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return { 1, ticket }
