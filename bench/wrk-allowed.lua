-- wrk script: POST /api/v4/internal/allowed with the body and JWT given in
-- the environment (GG_BODY, GG_JWT), as bench/allowed.sh sets them.
wrk.method = "POST"
wrk.body = os.getenv("GG_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Gitlab-Shell-Api-Request"] = os.getenv("GG_JWT")

-- GG_DELAY_MS paces each connection (for latency at a fixed fraction of the
-- maximum load): every connection waits that long between requests.
local delay_ms = tonumber(os.getenv("GG_DELAY_MS") or "")
if delay_ms then
	function delay()
		return delay_ms
	end
end
