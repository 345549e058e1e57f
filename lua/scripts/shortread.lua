-- shortread.lua: READs return fewer bytes than asked for (and than the file has).
--
--   fusedump -g "shortread.lua path=%.dat$ max=100" -- DAEMON ARGS...
--
-- path, p  as in errno.lua
-- max      the most bytes a READ returns; default half of what the daemon returned
-- Programs that assume read(2) fills their buffer find out here.
local max = args.max and tonumber(args.max)

function on_reply(rep)
	if rep.op == "READ" and rep.error == 0 and fuse.match(rep, args) then
		local data = rep.data
		rep.data = data:sub(1, max or (#data // 2))
	end
end
