-- errno.lua: fail requests with an errno, chosen by opcode, path and probability.
--
--   fusedump -g "errno.lua op=READ path=%.log$ errno=EIO p=0.5" -- DAEMON ARGS...
--
-- op     opcodes, comma-separated (READ,WRITE); default every request
-- path   a Lua pattern matched against the request's full path (for LOOKUP, CREATE,
--        MKDIR, UNLINK, ... the parent's path and the name); default every path
-- errno  the errno to answer, by name or number; default EIO
-- p      the probability of failing a matching request (0 to 1); default 1. With
--        --lua-seed the same requests fail again.
-- The daemon never sees the failed requests.
local errno = args.errno or "EIO"

function on_request(req)
	if fuse.match(req, args) then
		req:answer(errno)
	end
end
