-- wrk script of the fair benchmark (benchmarks/fair.py): rating submissions only.
--
-- Environment:
--   WRK_MODE   device | form | mix   (mix: every other request a device, a form)
--   WRK_DATA   a text file: "D<TAB>window<TAB>key", "T<TAB>ref<TAB>form token" lines
--   WRK_THREADS the -t given to wrk
--   WRK_RATE   ratings/s offered by all threads together; 0 = unpaced
--   WRK_OUT    where done() writes its summary (JSON) and WRK_OUT..".acked" the keys
--              of the acknowledged ratings ("d <id>" for a device, "w <submission>")
--
-- Pacing: Debian's wrk has no fixed-rate mode (that is wrk2), so delay() keeps a
-- schedule per thread: each send takes the next free slot, 1/rate apart, and waits
-- for it; when the server falls behind, slots are not bunched up to catch up.

local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } pingyi_timespec;
  int clock_gettime(int clk_id, pingyi_timespec *tp);
]]
local ts = ffi.new("pingyi_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local mode = os.getenv("WRK_MODE") or "device"
local rate = tonumber(os.getenv("WRK_RATE") or "0")
local out = os.getenv("WRK_OUT") or "/tmp/wrk-ratings"

local threads = {}
local counter = 1

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

function init(args)
  devices, tokens = {}, {}
  statuses, acked = {}, {}
  n, sent_at = 0, nil
  local nthreads = tonumber(os.getenv("WRK_THREADS") or "2") -- as wrk's -t
  interval = rate > 0 and (1000.0 * nthreads / rate) or 0
  math.randomseed(id * 7919 + os.time())
  run_tag = string.format("%08x", math.random(0, 0x7fffffff))
  local k = 0
  for line in io.lines(os.getenv("WRK_DATA")) do
    local kind, a, b = line:match("^(%a)\t([^\t]+)\t([^\t]+)$")
    if kind == "D" then
      table.insert(devices, { a, b })
    elseif kind == "T" then
      -- the threads share the tokens out: each form token is posted once
      k = k + 1
      if k % nthreads == id - 1 then
        table.insert(tokens, { a, b })
      end
    end
  end
  next_token = 1
end

function delay()
  if interval <= 0 then
    return 0
  end
  local t = now_ms()
  if sent_at == nil or sent_at < t then
    sent_at = t
  end
  local wait = sent_at - t
  sent_at = sent_at + interval
  return wait
end

local function device_request()
  local d = devices[n % #devices + 1]
  local client_id = string.format(
    "%s-%04x-4%03x-8%03x-%012x", run_tag, id, math.random(0, 0xfff), math.random(0, 0xfff), n
  )
  local body = string.format(
    '{"client_id":"%s","window":"%s","answers":{"overall":%d,"attitude":%d}}',
    client_id, d[1], 3 + n % 3, 3 + math.floor(n / 3) % 3
  )
  return wrk.format("POST", "/api/v1/ratings", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. d[2],
    ["User-Agent"] = "pingyi-wrk-device",
  }, body)
end

local function form_request()
  local t = tokens[next_token]
  next_token = next_token % #tokens + 1
  if next_token == 1 then -- the data ran out: replays from here on (reported)
    statuses["tokens wrapped"] = (statuses["tokens wrapped"] or 0) + 1
  end
  local body = string.format(
    "token=%s&overall=%d&item_attitude=%d", t[2], 3 + n % 3, 3 + math.floor(n / 3) % 3
  )
  return wrk.format("POST", "/r/" .. t[1], {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["User-Agent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) pingyi-wrk",
  }, body)
end

function request()
  n = n + 1
  if mode == "device" or (mode == "mix" and n % 2 == 0) then
    return device_request()
  end
  return form_request()
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local rid = body:match('"id":"([^"]+)"')
    if rid then
      acked[#acked + 1] = "d " .. rid
    end
  elseif status == 200 then
    -- a thank-you page: its pressure form carries the rating form's submission id
    local sid = body:match('name="token" value="c%d+w%d+s(%x+)%.')
    if sid then
      acked[#acked + 1] = "w " .. sid
    else
      local rid = body:match('"id":"([^"]+)"') -- a device's replay: 200, not new
      if rid then
        statuses["200 replay"] = (statuses["200 replay"] or 0) + 1
      end
    end
  end
end

function done(summary, latency, requests)
  local keys = io.open(out .. ".acked", "w")
  local codes = {}
  for _, thread in ipairs(threads) do
    for code, count in pairs(thread:get("statuses")) do
      codes[tostring(code)] = (codes[tostring(code)] or 0) + count
    end
    for _, key in ipairs(thread:get("acked")) do
      keys:write(key, "\n")
    end
  end
  keys:close()
  local parts = {}
  for code, count in pairs(codes) do
    parts[#parts + 1] = string.format('"%s":%d', code, count)
  end
  local f = io.open(out, "w")
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d},"statuses":{%s},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    table.concat(parts, ","),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean
  ))
  f:close()
end
