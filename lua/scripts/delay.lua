-- delay.lua: hold requests back before the daemon sees them, chosen by opcode and path.
--
--   fusedump -g "delay.lua op=LOOKUP path=^/slow/ ms=2000" -- DAEMON ARGS...
--
-- op, path, p  as in errno.lua
-- ms           the delay in milliseconds; default 1000
-- Other requests go on meanwhile. A request interrupted while held back (the program got
-- a signal) is answered EINTR and never reaches the daemon.
local ms = tonumber(args.ms or 1000)

function on_request(req)
	if fuse.match(req, args) then
		req:delay(ms)
	end
end
