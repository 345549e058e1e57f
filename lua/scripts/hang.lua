-- hang.lua: a daemon that never answers: matching requests are dropped, so the program
-- waits for them. It can still be interrupted: the kernel's INTERRUPT is then answered
-- EINTR in the daemon's place.
--
--   fusedump -g "hang.lua op=OPEN path=^/stuck" -- DAEMON ARGS...
--
-- op, path, p  as in errno.lua
function on_request(req)
	if fuse.match(req, args) then
		req:drop()
	end
end
