-- Redis's clock in milliseconds: every hold is stamped with it, whichever API process took it.
local function now_ms()
  local time = redis.call('TIME')
  return time[1] * 1000 + math.floor(time[2] / 1000)
end
