-- wrk script for the intake benchmark: POST /concerns, each request a different concern.
--
--   wrk -t1 -c32 -d10s -s bench/intake.lua http://127.0.0.1:PORT -- RATE
--
-- RATE (requests per second for the whole run, 0 = as fast as the connections go) paces
-- requests on an open schedule: each thread books the next free slot of its share of the
-- rate before each request, so a slow answer does not slow the offered load.
-- done() prints one JSON line (prefixed "RESULT ") that bench/intake.py reads.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) * 1000 + tonumber(clock.tv_nsec) / 1e6
end

-- Inner boxes of Riverton's six beats (lon_min, lon_max, lat_min, lat_max): every concern lands in a beat.
local boxes = {
  { -108.417, -108.396, 43.037, 43.057 }, { -108.390, -108.370, 43.037, 43.057 },
  { -108.364, -108.343, 43.037, 43.057 }, { -108.417, -108.396, 43.003, 43.024 },
  { -108.390, -108.370, 43.003, 43.024 }, { -108.364, -108.343, 43.003, 43.024 },
}
local categories = { "noise", "speeding_traffic", "vandalism_graffiti", "street_lighting", "loitering_disorder" }

local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("id", thread_number)
  table.insert(threads, thread)
end

function init(args)
  local rate = tonumber(args[1] or "0") or 0
  local thread_count = tonumber(args[2] or "1") or 1
  interval = 0
  if rate > 0 then interval = 1000.0 * thread_count / rate end
  next_slot = now_ms()
  counter = 0
  math.randomseed(id * 7919 + os.time())
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function delay()
  if interval == 0 then return 0 end
  local now = now_ms()
  if next_slot < now - interval then next_slot = now end -- behind: do not burst to catch up
  local wait = next_slot - now
  next_slot = next_slot + interval
  if wait < 0 then return 0 end
  return wait
end

function request()
  counter = counter + 1
  local box = boxes[math.random(#boxes)]
  local lon = box[1] + math.random() * (box[2] - box[1])
  local lat = box[3] + math.random() * (box[4] - box[3])
  local body = string.format(
    '{"category":"%s","description":"Bench concern %d-%d: cars speeding past the school every evening",' ..
    '"location":{"lat":%.6f,"long":%.6f,"address":null},"language":"en",' ..
    '"contact":{"name":"Bench Resident","email":"resident-%d-%d@bench.example","preference":"email"}}',
    categories[math.random(#categories)], id, counter, lat, lon, id, counter)
  return wrk.format(nil, "/concerns", nil, body)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, errors.connect, errors.read, errors.write, errors.status, errors.timeout))
end
