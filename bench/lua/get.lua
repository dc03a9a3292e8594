-- GET load: the bare liveness endpoint, or the decision history with or without a customer filter.
-- Arguments after `--`: mode (live | history_customer | history_all), api key, number of customers.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local mode = "live"
local customers = 1000

function init(args)
  mode = args[1] or mode
  if args[2] and args[2] ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. args[2]
  end
  customers = tonumber(args[3]) or customers
  math.randomseed((thread_number or 1) * 104729 + os.time())
end

function request()
  if mode == "history_customer" then
    local path = string.format("/v1/decisions?customer_id=C-%06d&limit=50", math.random(0, customers - 1))
    return wrk.format("GET", path)
  elseif mode == "history_all" then
    return wrk.format("GET", "/v1/decisions?limit=50")
  end
  return wrk.format("GET", "/health/live")
end
