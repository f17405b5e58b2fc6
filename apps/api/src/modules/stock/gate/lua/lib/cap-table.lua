-- What a sync does to a product's cap table, after it has settled the holds.
-- set_cap_table(cap hash, synced hash, cap mode, stock version, index of the first pair in
--               ARGV, units of live holds by user):
--   mode '0' keeps the table; '1' rebuilds it from the pairs (user id, units in live orders) in
--   ARGV from that index on, plus each user's live holds; '2' deletes it. A table rebuilt or
--   deleted records the version it was set from under 'cap' in the synced hash.
local function set_cap_table(cap, synced, mode, version, first_pair, held_by)
  if mode == '1' then
    redis.call('DEL', cap)
    for i = first_pair, #ARGV, 2 do
      local user = ARGV[i]
      local units = tonumber(ARGV[i + 1]) + (held_by[user] or 0)
      held_by[user] = nil
      if units > 0 then redis.call('HSET', cap, user, units) end
    end
    for user, units in pairs(held_by) do redis.call('HSET', cap, user, units) end
    redis.call('HSET', synced, 'cap', version)
  elseif mode == '2' then
    redis.call('DEL', cap)
    redis.call('HSET', synced, 'cap', version)
  end
end
