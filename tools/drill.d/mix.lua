-- wrk script of tools/drill: a weighted mix of requests, the answers
-- counted by status.  DRILL_MIX names a file of lines
--   WEIGHT|METHOD|PATH|Header: value|Header: value ...
-- and a METHOD of WEBHOOK takes the next pre-signed delivery of
-- DRILL_HOOKS (lines "t|v1|body", each used once (tools/drill runs one
-- thread); when they run out, they repeat: replays, answered 409).
-- done() prints one line: "drill-wrk requests=N ... s200=N s401=N ...".

local threads = {}
local nthreads = 0

function setup(thread)
    nthreads = nthreads + 1
    thread:set("tid", nthreads)
    table.insert(threads, thread)
end

local reqs = {}
local hooks = {}
local hook_i = 0
local wheel = {}
local wi = 0
counts = {}

local function split(s, sep)
    local out = {}
    for part in string.gmatch(s, "[^" .. sep .. "]+") do
        table.insert(out, part)
    end
    return out
end

function init(args)
    local f = assert(io.open(os.getenv("DRILL_MIX"), "r"))
    for line in f:lines() do
        if line ~= "" and string.sub(line, 1, 1) ~= "#" then
            local p = split(line, "|")
            local h = {}
            for i = 4, #p do
                local k, v = string.match(p[i], "^([^:]+):%s*(.*)$")
                if k then h[k] = v end
            end
            local r = { method = p[2], path = p[3], headers = h }
            if p[2] ~= "WEBHOOK" then
                r.raw = wrk.format(p[2], p[3], h)
            end
            table.insert(reqs, r)
            for _ = 1, tonumber(p[1]) do table.insert(wheel, #reqs) end
        end
    end
    f:close()
    local hf = os.getenv("DRILL_HOOKS")
    if hf and hf ~= "" then
        for line in io.lines(hf) do table.insert(hooks, line) end
    end
    wi = tid * 7
end

function request()
    wi = wi % #wheel + 1
    local r = reqs[wheel[wi]]
    if r.raw then return r.raw end
    hook_i = hook_i % math.max(#hooks, 1) + 1
    local p = split(hooks[hook_i] or "0|x|{}", "|")
    local h = {}
    for k, v in pairs(r.headers) do h[k] = v end
    h["Stripe-Signature"] = "t=" .. p[1] .. ",v1=" .. p[2]
    h["Content-Type"] = "application/json"
    return wrk.format("POST", r.path, h, p[3])
end

function response(status, headers, body)
    counts[status] = (counts[status] or 0) + 1
end

function done(summary, latency, requests)
    local total = {}
    for _, t in ipairs(threads) do
        local c = t:get("counts")
        for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
    end
    local e = summary.errors
    local out = string.format(
        "drill-wrk requests=%d duration_us=%d connect=%d read=%d write=%d"
        .. " timeout=%d p50_us=%d p99_us=%d max_us=%d",
        summary.requests, summary.duration, e.connect, e.read, e.write,
        e.timeout, latency:percentile(50), latency:percentile(99),
        latency.max)
    local keys = {}
    for k in pairs(total) do table.insert(keys, k) end
    table.sort(keys)
    for _, k in ipairs(keys) do
        out = out .. string.format(" s%d=%d", k, total[k])
    end
    io.write(out .. "\n")
end
