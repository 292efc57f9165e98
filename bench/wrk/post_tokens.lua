-- POST {"token": T} with T drawn at random from TOKENS_FILE (more tokens than the verified-token
-- cache holds, so nearly every request pays the full signature check).
local tokens = {}
for line in io.lines(os.getenv("TOKENS_FILE")) do tokens[#tokens + 1] = line end

function init(args)
  math.randomseed(os.time() + (args[1] or 0))
end

function request()
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                    '{"token":"' .. tokens[math.random(#tokens)] .. '"}')
end
