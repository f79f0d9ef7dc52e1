-- wrk script: authenticated TAXII GETs of the URL given on the command line.
wrk.headers["Authorization"] = "Bearer " .. os.getenv("CORDON_BENCH_TOKEN")
wrk.headers["Accept"] = "application/taxii+json;version=2.1"
function response(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. "\n")
  end
end
