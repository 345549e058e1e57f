-- nth.lua: fail the Nth matching request (or every Nth), the rest pass.
--
--   fusedump -g "nth.lua op=WRITE n=3 errno=EIO" -- DAEMON ARGS...
--
-- op, path  as in errno.lua
-- n         which matching request fails, counting from 1; default 1
-- every     1: also the 2Nth, 3Nth, ...; default only the Nth
-- errno     default EIO
local n = tonumber(args.n or 1)
local every = args.every == "1"
local errno = args.errno or "EIO"
local seen = 0

function on_request(req)
	if not fuse.match(req, args) then
		return
	end
	seen = seen + 1
	if seen == n or (every and seen % n == 0) then
		fuse.log("failing", req.op, "#" .. req.unique, "the", seen .. "th matching request")
		req:answer(errno)
	end
end
