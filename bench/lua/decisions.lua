-- POST /v1/decisions with varied orders: customers, amounts, order ids, registration numbers.
-- Arguments after `--`: api key, number of customers, run tag (keeps order ids unique across runs), and
-- optionally the path to post to (bench/floor.py sends the same bodies to its floor routes).
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("thread_number", #threads)
end

local customers = 1000
local run_tag = "run"
local path = "/v1/decisions"
local counter = 0
local countries = { "NL", "NL", "NL", "DE", "DE", "BE", "FR", "AT" }

local keys = {}

function init(args)
  -- One key, or several comma-separated (one per checkout): requests take them in turn.
  for key in string.gmatch(args[1], "[^,]+") do
    table.insert(keys, "Bearer " .. key)
  end
  wrk.headers["Authorization"] = keys[1]
  wrk.headers["Content-Type"] = "application/json"
  customers = tonumber(args[2]) or customers
  run_tag = args[3] or run_tag
  path = args[4] or path
  math.randomseed((thread_number or 1) * 7919 + os.time())
end

local function amount()
  -- One order in ten is a small order (no report bought); the rest spread up to 20,000.
  if math.random(10) == 1 then
    return string.format("%d.%02d", math.random(5, 249), math.random(0, 99))
  end
  return string.format("%d.%02d", math.random(250, 20000), math.random(0, 99))
end

function request()
  counter = counter + 1
  local customer = math.random(0, customers - 1)
  -- The registration number is stable per customer; its last digit spreads customers over the risk classes.
  local body = string.format(
    '{"order":{"id":"SO-%s-%d-%d","amount":"%s","currency":"EUR"},' ..
    '"customer":{"id":"C-%06d","name":"Customer %d B.V.","country":"%s","registration_number":"1%06d%d"}}',
    run_tag, thread_number or 1, counter, amount(), customer, customer,
    countries[customer % #countries + 1], customer, customer % 10)
  if #keys > 1 then
    wrk.headers["Authorization"] = keys[counter % #keys + 1]
  end
  return wrk.format("POST", path, nil, body)
end
