-- GET the URL given to wrk.
--   wrk -s benchmarks/lua/get.lua URL
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")
