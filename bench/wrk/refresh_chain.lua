-- Refresh with rotation + blacklist: each refresh token works once, so every thread (one connection
-- each) sends the refresh token the previous answer gave it. Seed tokens come one a line in TOKENS_FILE.
local seeds = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do seeds[#seeds + 1] = line end
local next_seed = 0

function setup(thread)
  next_seed = next_seed + 1
  thread:set("seed", seeds[next_seed])
end

function init(args)
  token = seed
  failures = 0
end

function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, '{"refresh":"' .. token .. '"}')
end

function response(status, headers, body)
  if status == 200 then
    token = string.match(body, '"refresh":"([^"]+)"')
  else
    failures = failures + 1
  end
end
