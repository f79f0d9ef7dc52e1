-- wrk script: each request POSTs a TAXII envelope of 1,000 new, distinct STIX 2.1
-- indicators (unique ids per run, wrk thread and request), so every object is a real insert.
local thread_counter = 0
function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
end

local run = tonumber(os.getenv("CORDON_BENCH_RUN") or "1")
local collection = os.getenv("CORDON_BENCH_COLLECTION")
local token = os.getenv("CORDON_BENCH_TOKEN")
local per_request = tonumber(os.getenv("CORDON_BENCH_BATCH") or "1000")
local n = 0

function request()
  n = n + 1
  local parts = {}
  for i = 1, per_request do
    local k = n * per_request + i
    parts[i] = string.format(
      '{"type":"indicator","spec_version":"2.1","id":"indicator--%08x-%04x-4000-8000-%012x",' ..
      '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",' ..
      '"name":"bench indicator %d","indicator_types":["malicious-activity"],' ..
      '"pattern":"[ipv4-addr:value = \'10.%d.%d.%d\']","pattern_type":"stix",' ..
      '"valid_from":"2026-01-01T00:00:00Z","confidence":50}',
      run, tid, k, k, tid, math.floor(k / 256) % 256, k % 256)
  end
  return wrk.format("POST", "/cordon/collections/" .. collection .. "/objects/", {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/taxii+json;version=2.1",
    ["Content-Type"] = "application/taxii+json;version=2.1",
  }, '{"objects":[' .. table.concat(parts, ",") .. ']}')
end

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end
