-- corrupt.lua: silent data corruption: READs of matching files come back with the bytes
-- at the given file offsets inverted (XOR 0xff), everything else as the daemon sent it.
--
--   fusedump -g "corrupt.lua path=^/data/db at=0,4096,4097" -- DAEMON ARGS...
--
-- path  a Lua pattern for the files (as in errno.lua); default every file
-- at    file offsets, comma-separated; default 0
local at = {}
for o in (args.at or "0"):gmatch("[^,]+") do
	at[#at + 1] = tonumber(o)
end
local reads = {} -- unique -> offset of the READ, to place the reply's bytes in the file

function on_request(req)
	if req.op == "READ" and fuse.match(req, {path = args.path}) then
		reads[req.unique] = req.offset
	end
end

function on_reply(rep)
	local offset = reads[rep.unique]
	if not offset then
		return
	end
	reads[rep.unique] = nil
	if rep.error ~= 0 then
		return
	end
	local data = rep.data
	local bytes = {data:byte(1, -1)}
	local changed = false
	for _, o in ipairs(at) do
		local i = o - offset + 1
		if i >= 1 and i <= #bytes then
			bytes[i] = bytes[i] ~ 0xff
			changed = true
		end
	end
	if changed then
		local parts = {}
		for i = 1, #bytes, 4096 do
			parts[#parts + 1] = string.char(table.unpack(bytes, i, math.min(i + 4095, #bytes)))
		end
		rep.data = table.concat(parts)
	end
end
