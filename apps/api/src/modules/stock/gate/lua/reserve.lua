-- Reserve the lines of one order (see lib/reserve.lua).
-- KEYS: stock, holds, cap of each line's product.
-- ARGV: reservation id, user id, then quantity, limit, product id of each line.
return reserve(KEYS, 1, ARGV, 3, ARGV[1], ARGV[2])
