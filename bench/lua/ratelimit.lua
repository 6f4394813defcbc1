-- The comparison for fw_ratelimit (bench/lua/compare-ratelimit): the same
-- sliding-window counter written the OpenResty way, with lua-resty-redis
-- (Debian's lua-nginx-redis, module "nginx.redis") and its connection
-- pool.  One EVALSHA per request (EVAL on NOSCRIPT) of the very script the
-- C module runs (fw_ratelimit_script), so that the comparison is between
-- the two nginx sides only.

local redis = require "nginx.redis"

local _M = {}

local script = [[
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {1}
local idx = {}
for i = 1, #KEYS do
  local lim = tonumber(ARGV[3 * i - 2])
  local win = tonumber(ARGV[3 * i - 1])
  local cost = tonumber(ARGV[3 * i])
  local x = math.floor(now / win)
  local e = now - x * win
  local v = redis.call('HMGET', KEYS[i], string.format('%d', x),
                       string.format('%d', x - 1))
  local c = tonumber(v[1]) or 0
  local p = tonumber(v[2]) or 0
  if (c + cost) * win + p * (win - e) > lim * win then
    out[1] = 0
  end
  idx[i] = x
  out[#out + 1] = c
  out[#out + 1] = p
  out[#out + 1] = e
end
if out[1] == 1 then
  for i = 1, #KEYS do
    local win = tonumber(ARGV[3 * i - 1])
    local cost = tonumber(ARGV[3 * i])
    local f = string.format('%d', idx[i])
    if cost > 0 and redis.call('HINCRBY', KEYS[i], f, cost) == cost
    then
      local keep = string.format('%d', idx[i] - 1)
      if redis.call('HLEN', KEYS[i]) > 2 then
        for _, k in ipairs(redis.call('HKEYS', KEYS[i])) do
          if k ~= f and k ~= keep then
            redis.call('HDEL', KEYS[i], k)
          end
        end
      end
      redis.call('PEXPIRE', KEYS[i],
                 2 * win - out[3 * i + 1] + 1000)
    end
  end
end
return out
]]

local sha

local function hex(s)
    return (s:gsub('.', function(c) return string.format('%02x', c:byte()) end))
end

function _M.limit(host, port, name, limit, window_ms, key)
    if not sha then
        sha = hex(ngx.sha1_bin(script))
    end

    local red = redis:new()
    red:set_timeouts(100, 100, 100)

    local ok, err = red:connect(host, port)
    if not ok then
        ngx.log(ngx.ERR, "redis connect: ", err)
        return                                  -- fail open
    end

    local k = "lua:rl:{" .. name .. ":" .. key .. "}"
    local res, err = red:evalsha(sha, 1, k, limit, window_ms, 1)

    if not res and err and err:find("NOSCRIPT", 1, true) then
        res, err = red:eval(script, 1, k, limit, window_ms, 1)
    end

    if not res then
        ngx.log(ngx.ERR, "redis: ", err)
        red:close()
        return
    end

    red:set_keepalive(10000, 64)

    if res[1] == 0 then
        ngx.header["Retry-After"] = "1"
        return ngx.exit(429)
    end
end

return _M
