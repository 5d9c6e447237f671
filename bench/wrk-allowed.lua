-- wrk-allowed.lua - load for POST /api/v4/internal/allowed, as sshd-gate sends it.
--
-- Each request carries a JSON body and a Gitlab-Shell-Api-Request JWT (HS256,
-- iss "gitlab-shell", iat, exp = iat + 60) signed here, in LuaJIT, with the
-- shared secret; the token is re-signed whenever the second changes, as a
-- client signing per request would produce.
--
-- Environment:
--   GG_SECRET       the shared secret, or
--   GG_SECRET_FILE  a file holding it (default ./var/gitlab_shell_secret)
--   GG_PROJECT      project path (default demo/hello)
--   GG_KEY_ID       key id (default 1); GG_USERNAME instead sends a username
--   GG_ACTION       git-upload-pack (default) | git-receive-pack
--   GG_DELAY_MS     pause per connection between requests, for a fixed lower
--                   load (wrk cannot pace itself): 50 connections with 3 ms
--                   make at most ~16k requests/s
--
-- Example:
--   GG_SECRET_FILE=var/gitlab_shell_secret wrk -t2 -c50 -d30s --latency \
--       -s bench/wrk-allowed.lua http://127.0.0.1:8080

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror = bit.rshift, bit.lshift, bit.ror
local char, byte, fmt, rep = string.char, string.byte, string.format, string.rep

local K = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256(msg)
	local len = #msg
	msg = msg .. "\128" .. rep("\0", (55 - len) % 64)
	local bits = len * 8
	for i = 7, 0, -1 do
		msg = msg .. char(band(math.floor(bits / 2 ^ (8 * i)), 0xff))
	end
	local h = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}
	local w = {}
	for chunk = 1, #msg, 64 do
		for i = 0, 15 do
			local a, b, c, d = byte(msg, chunk + 4 * i, chunk + 4 * i + 3)
			w[i] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
		end
		for i = 16, 63 do
			local s0 = bxor(ror(w[i - 15], 7), ror(w[i - 15], 18), rshift(w[i - 15], 3))
			local s1 = bxor(ror(w[i - 2], 17), ror(w[i - 2], 19), rshift(w[i - 2], 10))
			w[i] = bit.tobit(w[i - 16] + s0 + w[i - 7] + s1)
		end
		local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
		for i = 0, 63 do
			local s1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
			local ch = bxor(band(e, f), band(bnot(e), g))
			local t1 = bit.tobit(hh + s1 + ch + K[i + 1] + w[i])
			local s0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
			local maj = bxor(band(a, b), band(a, c), band(b, c))
			local t2 = bit.tobit(s0 + maj)
			hh, g, f, e, d, c, b, a = g, f, e, bit.tobit(d + t1), c, b, a, bit.tobit(t1 + t2)
		end
		h[1], h[2], h[3], h[4] = bit.tobit(h[1] + a), bit.tobit(h[2] + b), bit.tobit(h[3] + c), bit.tobit(h[4] + d)
		h[5], h[6], h[7], h[8] = bit.tobit(h[5] + e), bit.tobit(h[6] + f), bit.tobit(h[7] + g), bit.tobit(h[8] + hh)
	end
	local out = {}
	for i = 1, 8 do
		out[i] = char(band(rshift(h[i], 24), 0xff), band(rshift(h[i], 16), 0xff),
			band(rshift(h[i], 8), 0xff), band(h[i], 0xff))
	end
	return table.concat(out)
end

local function hmac_sha256(key, msg)
	if #key > 64 then key = sha256(key) end
	key = key .. rep("\0", 64 - #key)
	local ipad, opad = {}, {}
	for i = 1, 64 do
		local k = byte(key, i)
		ipad[i] = char(bxor(k, 0x36))
		opad[i] = char(bxor(k, 0x5c))
	end
	return sha256(table.concat(opad) .. sha256(table.concat(ipad) .. msg))
end

local b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function base64url(s)
	local out = {}
	for i = 1, #s, 3 do
		local a, b, c = byte(s, i, i + 2)
		local n = lshift(a, 16) + lshift(b or 0, 8) + (c or 0)
		local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
		for j = 1, chars do
			local idx = band(rshift(n, 6 * (4 - j)), 63) + 1
			out[#out + 1] = b64chars:sub(idx, idx)
		end
	end
	return table.concat(out)
end

local function read_secret()
	local s = os.getenv("GG_SECRET")
	if not s or s == "" then
		local path = os.getenv("GG_SECRET_FILE") or "var/gitlab_shell_secret"
		local f = assert(io.open(path, "r"), "cannot read " .. path .. " (set GG_SECRET or GG_SECRET_FILE)")
		s = f:read("*a")
		f:close()
	end
	return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

local function sign(secret, iat)
	local head = base64url('{"alg":"HS256","typ":"JWT"}')
	local claims = base64url(fmt('{"iss":"gitlab-shell","iat":%d,"exp":%d}', iat, iat + 60))
	local input = head .. "." .. claims
	return input .. "." .. base64url(hmac_sha256(secret, input))
end

local secret, token_time, body, req

function init(args)
	secret = read_secret()
	local who
	if os.getenv("GG_USERNAME") then
		who = fmt('"username":"%s"', os.getenv("GG_USERNAME"))
	else
		who = fmt('"key_id":"%s"', os.getenv("GG_KEY_ID") or "1")
	end
	body = fmt('{"action":"%s","project":"%s",%s,"protocol":"ssh","changes":"_any","check_ip":"127.0.0.1"}',
		os.getenv("GG_ACTION") or "git-upload-pack", os.getenv("GG_PROJECT") or "demo/hello", who)
end

-- The request is formatted once per token, so that wrk measures the server.
function request()
	local now = os.time()
	if now ~= token_time then
		token_time = now
		req = wrk.format("POST", "/api/v4/internal/allowed", {
			["Content-Type"] = "application/json",
			["Gitlab-Shell-Api-Request"] = sign(secret, now),
		}, body)
	end
	return req
end

local pause = tonumber(os.getenv("GG_DELAY_MS") or "")

if pause then
	function delay()
		return pause
	end
end

local reported = false

-- Tell about the first refusal (per wrk thread): a benchmark of 401s measures nothing.
function response(status, headers, body)
	if status ~= 200 and not reported then
		reported = true
		io.stderr:write(fmt("first non-200 answer: %d %s\n", status, body))
	end
end
