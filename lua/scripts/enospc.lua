-- enospc.lua: a filesystem that fills up: WRITEs fail with ENOSPC once BYTES have been
-- written through the mount (counted from the start of the session).
--
--   fusedump -g "enospc.lua bytes=1m" -- DAEMON ARGS...
--
-- bytes  how much may be written: a number, or with k, m, g (KiB, MiB, GiB); default 1m
-- path   only count and fail writes to paths matching this Lua pattern
-- A write that would cross the limit fails whole; FALLOCATE past it fails too.
local limit = fuse.size(args.bytes or "1m")
local written = 0

function on_request(req)
	if (req.op ~= "WRITE" and req.op ~= "FALLOCATE") or not fuse.match(req, {path = args.path}) then
		return
	end
	local n = req.op == "WRITE" and req.size or req.length
	if written + n > limit then
		req:answer("ENOSPC")
	elseif req.op == "WRITE" then
		written = written + n
	end
end
