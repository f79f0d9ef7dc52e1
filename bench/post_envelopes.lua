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
local template = nil

-- The body is built once per thread with a placeholder where the request number
-- goes; each request substitutes it (one gsub instead of 1,000 string.formats, so
-- the generator's CPU use on the shared cores stays small).
local function build_template()
  local parts = {}
  for i = 1, per_request do
    parts[i] = string.format(
      '{"type":"indicator","spec_version":"2.1","id":"indicator--REQNUMBR-%04x-4000-8000-%012x",' ..
      '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",' ..
      '"name":"bench indicator %d","indicator_types":["malicious-activity"],' ..
      '"pattern":"[ipv4-addr:value = \'10.%d.%d.%d\']","pattern_type":"stix",' ..
      '"valid_from":"2026-01-01T00:00:00Z","confidence":50}',
      tid * 256 + run % 256, i, i, tid, math.floor(i / 256) % 256, i % 256)
  end
  return '{"objects":[' .. table.concat(parts, ",") .. ']}'
end

function request()
  if not template then template = build_template() end
  n = n + 1
  local body = template:gsub("REQNUMBR", string.format("%08x", n))
  return wrk.format("POST", "/cordon/collections/" .. collection .. "/objects/", {
    ["Authorization"] = "Bearer " .. token,
    ["Accept"] = "application/taxii+json;version=2.1",
    ["Content-Type"] = "application/taxii+json;version=2.1",
  }, body)
end

function response(status, headers, body)
  if status ~= 202 then
    io.stderr:write("unexpected status " .. status .. ": " .. body:sub(1, 200) .. "\n")
  end
end
