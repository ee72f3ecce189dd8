-- GET, in turn, each path (with its query) listed in the file named after
-- `--`, one a line.
--   wrk -s benchmarks/lua/paths.lua URL -- PATHS.txt
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

local requests = {}
local next_request = 1

function init(args)
  for path in io.lines(args[1]) do
    if path ~= "" then
      requests[#requests + 1] = wrk.format("GET", path)
    end
  end
  assert(#requests > 0, "no paths in " .. args[1])
end

function request()
  local chosen = requests[next_request]
  next_request = next_request % #requests + 1
  return chosen
end
