-- readonly.lua: the filesystem turns read-only: every request that would change it fails
-- with EROFS before the daemon sees it (opening for writing included), reads go on.
--
--   fusedump -g readonly.lua -- DAEMON ARGS...
--
-- path  only under paths matching this Lua pattern; default everywhere
local changes = {}
for op in ("WRITE CREATE MKNOD MKDIR UNLINK RMDIR RENAME RENAME2 LINK SYMLINK SETATTR " ..
	   "SETXATTR REMOVEXATTR FALLOCATE COPY_FILE_RANGE TMPFILE"):gmatch("%S+") do
	changes[op] = true
end
local O_ACCMODE, O_TRUNC = 3, 512

function on_request(req)
	local change = changes[req.op] or
		(req.op == "OPEN" and ((req.flags & O_ACCMODE) ~= 0 or (req.flags & O_TRUNC) ~= 0))
	if change and fuse.match(req, {path = args.path}) then
		req:answer("EROFS")
	end
end
