-- nosync.lua: FSYNC and FSYNCDIR are acknowledged at once and never reach the daemon, so
-- what a program believes is on stable storage may not be: the unsynced-data faults that
-- LazyFS studies, in front of the daemon you ship.
--
--   fusedump -g nosync.lua -- DAEMON ARGS...
--
-- path  only for paths matching this Lua pattern; default everywhere
function on_request(req)
	if (req.op == "FSYNC" or req.op == "FSYNCDIR") and fuse.match(req, {path = args.path}) then
		req:answer({})
	end
end
