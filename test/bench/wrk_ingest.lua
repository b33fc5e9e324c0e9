-- wrk_ingest.lua -- the request bodies of `make bench`'s receiver-versus-
-- InfluxDB runs (run.sh, receiver_vs_influxdb), for wrk.
--
-- Every request carries points no request has carried before: SERIES
-- series times ROUNDS rounds, one second apart.  Both tern and InfluxDB
-- store a (series, timestamp) once, so a repeated body would measure a
-- no-op.
--
-- The requests come from SOURCES sources per wrk thread, as from as many
-- devices, each with its own series (label/tag src = its number, s = the
-- series') whose rounds continue where its last request stopped.  A thread
-- turns through its sources request by request, so with SOURCES equal to
-- the thread's connections, requests in flight at once are from different
-- sources, as when devices upload side by side.  (Connections sharing
-- series would deliver each series' rounds out of order, which a real
-- fleet does not, and tern checks every late sample for a duplicate.)
--
-- Building a body must cost the client little: it shares two cores with
-- the server it measures.  So each format's round is prebuilt once as the
-- pieces between its timestamps, and a round is table.concat(pieces, ts):
-- one C call per round, whatever the number of series.
--
-- Environment:
--   BENCH_FMT     msgpack (tern's SAMPLES body, POST /api/v1/ingest),
--                 json (seed 003's, POST /api/metrics) or
--                 lp (InfluxDB line protocol, POST /write)
--   BENCH_SERIES  series per body
--   BENCH_SOURCES sources per thread (wrk's connections / threads)
--   BENCH_ROUNDS  rounds per body (points = SERIES x ROUNDS)
--   BENCH_T0      the first round's timestamp, ms since the epoch
--   BENCH_NAME    the metric (measurement) name
--   BENCH_TOKEN   tern's bearer token (msgpack, json)
--
-- done() prints one line for run.sh:
--   WRK requests=N non2xx=N connect=N read=N write=N timeout=N duration_us=N

local fmt = os.getenv("BENCH_FMT")
local nseries = tonumber(os.getenv("BENCH_SERIES"))
local nrounds = tonumber(os.getenv("BENCH_ROUNDS"))
local nsources = tonumber(os.getenv("BENCH_SOURCES") or "1")
local t0 = tonumber(os.getenv("BENCH_T0"))
local name = os.getenv("BENCH_NAME")
local token = os.getenv("BENCH_TOKEN") or ""

local nthreads = 0

function setup(thread)
	nthreads = nthreads + 1
	thread:set("tid", nthreads)
end

-- msgpack, by hand: only what a SAMPLES body needs.
local function be(n, width)	-- n >= 0 as WIDTH big-endian bytes
	local b = {}
	for i = width, 1, -1 do
		b[i] = n % 256
		n = math.floor(n / 256)
	end
	return string.char(unpack(b))
end
local function mp_uint(n)
	if n < 128 then return string.char(n) end
	if n < 256 then return "\204" .. be(n, 1) end
	if n < 65536 then return "\205" .. be(n, 2) end
	return "\206" .. be(n, 4)
end
local function mp_str(s)
	if #s < 32 then return string.char(160 + #s) .. s end
	return "\217" .. be(#s, 1) .. s
end
local function mp_array(n)
	if n < 16 then return string.char(144 + n) end
	if n < 65536 then return "\220" .. be(n, 2) end
	return "\221" .. be(n, 4)
end
local function mp_float64(x)	-- a positive, normal double
	local m, e = math.frexp(x)	-- x = m * 2^e, 0.5 <= m < 1
	local frac = (m * 2 - 1) * 2 ^ 52
	local exp = e - 1 + 1023
	local lo = be(frac % 2 ^ 48, 6)
	local top = math.floor(frac / 2 ^ 48)
	return "\203" .. string.char(math.floor(exp / 16), (exp % 16) * 16 + top) .. lo
end

-- Series s's value: two decimals, the same in every format.
local function value(s)
	return string.format("%.2f", 50 + (s % 97) * 0.37)
end

-- Per source: the body's start and its round's pieces.  build_* fill
-- them for source number src.
local headers, pieces, trailer = {}, {}, ""
local tsfmt = function(ts) return string.format("%d", ts) end

local function build_msgpack(src)
	local series = {}
	for s = 0, nseries - 1 do
		series[#series + 1] = "\146" .. mp_str(name) .. "\148" ..
		    mp_str("src") .. mp_str(tostring(src)) ..
		    mp_str("s") .. mp_str(tostring(s))
	end
	-- {"series": [...], "points": [idx, ts, value, ...]}
	local header = "\130" .. mp_str("series") .. mp_array(nseries) ..
	    table.concat(series) .. mp_str("points") ..
	    mp_array(3 * nseries * nrounds)
	local pieces = { mp_uint(0) }
	for s = 0, nseries - 1 do
		local v = mp_float64(tonumber(value(s)))
		if s < nseries - 1 then
			pieces[#pieces + 1] = v .. mp_uint(s + 1)
		else
			pieces[#pieces + 1] = v
		end
	end
	tsfmt = function(ts) return "\207" .. be(ts, 8) end
	wrk.path = "/api/v1/ingest"
	wrk.headers["Content-Type"] = "application/msgpack"
	wrk.headers["Authorization"] = "Bearer " .. token
	return header, pieces
end

-- A text format's round: line(s) for each series, sep between them,
-- last after the final timestamp.
local function text_pieces(sep, line, last)
	local p = {}
	for s = 0, nseries - 1 do
		p[#p + 1] = (s > 0 and sep or '') .. line(s)
	end
	p[#p + 1] = last
	return p
end

local function build_json(src)
	-- {"metrics": [{"name", "labels", "value", "timestamp"}, ...]}
	trailer = ']}'
	wrk.path = "/api/metrics"
	wrk.headers["Content-Type"] = "application/json"
	wrk.headers["Authorization"] = "Bearer " .. token
	return '{"metrics":[', text_pieces('},', function(s)
		return string.format('{"name":"%s","labels":{"src":"%d","s":"%d"},' ..
		    '"value":%s,"timestamp":', name, src, s, value(s))
	end, '}')
end

local function build_lp(src)
	-- NAME,src=SRC,s=S value=V TS\n
	wrk.path = "/write?db=bench&precision=ms"
	wrk.headers["Content-Type"] = "text/plain"
	return "", text_pieces('\n', function(s)
		return string.format('%s,src=%d,s=%d value=%s ', name, src, s,
		    value(s))
	end, '\n')
end

local nreq = 0

function init(args)
	local build = ({ msgpack = build_msgpack, json = build_json,
	    lp = build_lp })[fmt]

	if build == nil then
		error("BENCH_FMT must be msgpack, json or lp")
	end
	for k = 1, nsources do
		headers[k], pieces[k] = build((tid - 1) * nsources + k)
	end
	wrk.method = "POST"
end

-- JSON needs a comma between rounds' objects; the other formats none.
local function joiner()
	return fmt == "json" and "," or ""
end

function request()
	local k = nreq % nsources + 1
	local base = t0 + math.floor(nreq / nsources) * nrounds * 1000
	local rounds = {}

	nreq = nreq + 1
	for r = 0, nrounds - 1 do
		rounds[r + 1] = table.concat(pieces[k], tsfmt(base + r * 1000))
	end
	return wrk.format(nil, nil, nil,
	    headers[k] .. table.concat(rounds, joiner()) .. trailer)
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("WRK requests=%d non2xx=%d connect=%d read=%d " ..
	    "write=%d timeout=%d duration_us=%d\n", summary.requests, e.status,
	    e.connect, e.read, e.write, e.timeout, summary.duration))
end
