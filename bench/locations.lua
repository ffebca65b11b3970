-- wrk script: PUT /responders/me/location as many volunteers, each with its own token.
local tokens = {}
for line in io.lines(os.getenv("EHBO_BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local n = 0

request = function()
  n = n + 1
  local token = tokens[(n % #tokens) + 1]
  local body = string.format('{"lat": %.6f, "lon": %.6f, "accuracy_m": 10}',
                             60.17 + math.random() / 100, 24.94 + math.random() / 100)
  return wrk.format("PUT", "/responders/me/location",
                    {["Authorization"] = "Bearer " .. token,
                     ["Content-Type"] = "application/json"}, body)
end
