// The Lua side of ngx.socket and ngx.req.socket: the socket objects (tables holding an id), their
// methods, argument checks with lua-nginx-module's messages, and send's table flattening.

export const SOCKET_LUA = String.raw`
local ngx, js = ...
local type, tostring, tonumber, select, error, setmetatable, getmetatable, rawget = type, tostring, tonumber, select, error, setmetatable, getmetatable, rawget
local concat, unpack = table.concat, table.unpack
local floor = math.floor
local getinfo = debug.getinfo

-- luaL_argerror's message: the function's name as its caller knows it ("?" through pcall); a
-- method call does not count self. level 1: the caller of argerr is the API function itself.
local function argerr(level, n, msg)
  local info = getinfo(level + 1, "n")
  local name = info and info.name or "?"
  if info and info.namewhat == "method" then
    n = n - 1
    if n == 0 then error("calling '" .. name .. "' on bad self (" .. msg .. ")", 0) end
  end
  error("bad argument #" .. n .. " to '" .. name .. "' (" .. msg .. ")", 0)
end

-- Objects that are collected release their JS side in batches (no JS call from a finalizer).
local dead = {}
local function gc(self) local id = rawget(self, 1) if id then dead[#dead + 1] = id end end
local function reap()
  local d = dead
  if d[1] == nil then return end
  dead = {}
  js.release(unpack(d))
end

-- Flattens nested tables of strings and numbers; returns nil and the bad type on anything else.
local function flatten(t, out, n)
  for i = 1, #t do
    local v = t[i]
    local tv = type(v)
    if tv == "string" or tv == "number" then
      n = n + 1
      out[n] = v
    elseif tv == "table" then
      local bad
      n, bad = flatten(v, out, n)
      if not n then return nil, bad end
    else
      return nil, tv
    end
  end
  return n
end

-- send's data: a string, a (nested) table of strings and numbers, else tostring'ed. level: see argerr.
local function bytes(data, level)
  local t = type(data)
  if t == "string" then return data end
  if t == "table" then
    local out = {}
    local n, bad = flatten(data, out, 0)
    if not n then argerr(level + 1, 2, "bad data type " .. bad .. " found") end
    return concat(out, "", 1, n)
  end
  return tostring(data)
end

local function id_of(self, level)
  local id = type(self) == "table" and rawget(self, 1)
  if type(id) ~= "number" then argerr(level + 1, 1, "table expected, got " .. type(self)) end
  return id
end

local function timeout_arg(v)
  v = tonumber(v) or 0
  v = floor(v)
  if v < 0 or v > 2147483647 then error("bad timeout value", 0) end
  return v
end

local function until_iterator(iid)
  local holder = setmetatable({ iid }, { __gc = gc })
  return function(size)
    local keep = holder
    if size ~= nil then
      size = tonumber(size)
      if not size or size < 0 then error("bad argument #1 to 'receiveuntil iterator' (bad size)", 0) end
      size = floor(size)
    end
    return js.until_read(keep[1], size)
  end
end

local function receiveuntil(self, pattern, opts)
  local id = id_of(self, 1)
  local tp = type(pattern)
  if tp == "number" then pattern = tostring(pattern)
  elseif tp ~= "string" then argerr(1, 2, "string expected, got " .. tp) end
  local inclusive = false
  if opts ~= nil then
    if type(opts) ~= "table" then argerr(1, 3, "table expected, got " .. type(opts)) end
    inclusive = opts.inclusive and true or false
  end
  local iid, err = js.until_new(id, pattern, inclusive, rawget(self, 2) == "req")
  if not iid then return nil, err end
  return until_iterator(iid)
end

local function settimeout(self, ...)
  local n = select("#", ...)
  if n ~= 1 then error("ngx.socket settimeout: expecting 2 arguments (including the object) but seen " .. (n + 1), 0) end
  js.settimeouts(id_of(self, 1), timeout_arg(...), -1, -1, rawget(self, 2) or "tcp")
end

local function settimeouts(self, ...)
  local n = select("#", ...)
  if n ~= 3 then error("ngx.socket settimeouts: expecting 4 arguments (including the object) but seen " .. (n + 1), 0) end
  local c, s, r = ...
  js.settimeouts(id_of(self, 1), timeout_arg(c), timeout_arg(s), timeout_arg(r), rawget(self, 2) or "tcp")
end

local function receive(self, p)
  local id = id_of(self, 1)
  if p ~= nil and p ~= "*l" and p ~= "*a" then
    local n = tonumber(p)
    if type(p) == "string" and p:sub(1, 1) == "*" then
      local c = p:sub(2, 2)
      if c == "l" then p = "*l" elseif c == "a" then p = "*a" else argerr(1, 2, "bad pattern argument") end
    elseif not n or n < 0 then
      argerr(1, 2, "bad pattern argument")
    else
      p = floor(n)
    end
  end
  return js.receive(id, p, rawget(self, 2) == "req")
end
local function receiveany(self, max)
  local id = id_of(self, 1)
  local n = tonumber(max)
  if not n or n <= 0 then argerr(1, 2, "bad max argument") end
  return js.receiveany(id, floor(n), rawget(self, 2) == "req")
end
local function send(self, data)
  return js.send(id_of(self, 1), bytes(data, 1), rawget(self, 2) == "req")
end

-- TCP
local tcp = {}
local tcp_mt = { __index = tcp, __gc = gc }

function tcp.connect(self, host, port, opts)
  local id = id_of(self, 1)
  if type(host) ~= "string" then argerr(1, 2, "string expected, got " .. type(host)) end
  if type(port) == "table" and opts == nil then opts, port = port, nil end
  if port ~= nil then
    local p = tonumber(port)
    if p == nil then argerr(1, 3, "number expected, got " .. type(port)) end
    port = p
  end
  local pool, pool_size, backlog
  if type(opts) == "table" then
    pool = opts.pool
    if pool ~= nil then pool = tostring(pool) end
    pool_size = opts.pool_size
    if pool_size ~= nil then
      local v = tonumber(pool_size)
      if not v or v <= 0 then argerr(1, 4, "bad \"pool_size\" option value: " .. tostring(pool_size)) end
      pool_size = floor(v)
    end
    backlog = opts.backlog
    if backlog ~= nil then
      local v = tonumber(backlog)
      if not v or v < 0 then argerr(1, 4, "bad \"backlog\" option value: " .. tostring(backlog)) end
      backlog = floor(v)
    end
  end
  return js.connect(id, host, port, pool, pool_size, backlog)
end

-- TLS sessions are opaque objects holding the session's bytes.
local session_mt = { __tostring = function(s) return "ssl session: " .. #s[1] .. " bytes" end, __name = "ssl session" }

function tcp.sslhandshake(self, ...)
  local n = select("#", ...)
  if n > 4 then
    error("ngx.socket sslhandshake: expecting 1 ~ 5 arguments (including the object), but seen " .. (n + 1), 0)
  end
  local session, name, verify, ocsp = ...
  if name ~= nil and type(name) ~= "string" then name = tostring(name) end
  if getmetatable(session) == session_mt then session = session[1]
  elseif session ~= false then session = nil end
  local r, err = js.sslhandshake(id_of(self, 1), session, name, verify and true or false, ocsp and true or false)
  if type(r) == "string" then return setmetatable({ r }, session_mt) end
  if r then return r end
  return r, err
end

tcp.send = send
tcp.receive = receive
tcp.receiveany = receiveany
tcp.receiveuntil = receiveuntil
tcp.settimeout = settimeout
tcp.settimeouts = settimeouts

function tcp.setkeepalive(self, timeout, size)
  local id = id_of(self, 1)
  if timeout ~= nil then
    if type(timeout) ~= "number" then argerr(1, 2, "number expected, got " .. type(timeout)) end
    timeout = floor(timeout)
  end
  if size ~= nil then
    local v = tonumber(size)
    if not v or v <= 0 then
      js.close(id)
      argerr(1, 3, "bad \"pool_size\" option value: " .. tostring(size))
    end
    size = floor(v)
  end
  return js.setkeepalive(id, timeout, size)
end

function tcp.getreusedtimes(self) return js.getreusedtimes(id_of(self, 1)) end
function tcp.close(self) return js.close(id_of(self, 1)) end

function tcp.setoption(self, option, value)
  local id = id_of(self, 1)
  if option == nil then return nil, 'missing the "option" argument' end
  if value == nil then return nil, 'missing the "value" argument' end
  return js.setoption(id, tostring(option), value)
end

function tcp.getoption(self, option)
  local id = id_of(self, 1)
  if option == nil then return nil, 'missing the "option" argument' end
  return js.getoption(id, tostring(option))
end

function tcp.setclientcert(self, cert, pkey)
  if not cert and not pkey then return true end
  if not cert or not pkey then return nil, "client certificate must be supplied with corresponding private key" end
  return nil, "bad cert arg: cdata expected, got " .. type(cert)
end

function tcp.bind(self, ip)
  id_of(self, 1)
  return nil, "bind is not supported"
end

local socket = {}
ngx.socket = socket

function socket.tcp()
  reap()
  return setmetatable({ js.tcp_new() }, tcp_mt)
end
socket.stream = socket.tcp

-- UDP
local udp = {}
local udp_mt = { __index = udp, __gc = gc }

function udp.setpeername(self, host, port)
  local id = id_of(self, 1)
  if type(host) ~= "string" then argerr(1, 2, "string expected, got " .. type(host)) end
  if port ~= nil then port = tonumber(port) end
  return js.udp_setpeername(id, host, port)
end
function udp.send(self, data)
  return js.udp_send(id_of(self, 1), bytes(data, 1))
end
function udp.receive(self, size)
  local id = id_of(self, 1)
  if size ~= nil then
    local v = tonumber(size)
    if not v or v <= 0 or v > 65536 then argerr(1, 2, "bad size") end
    size = floor(v)
  end
  return js.udp_receive(id, size)
end
udp.settimeout = settimeout
function udp.close(self) return js.close(id_of(self, 1), true) end
function udp.bind(self, ip)
  id_of(self, 1)
  return nil, "bind is not supported"
end

function socket.udp()
  reap()
  return setmetatable({ js.udp_new(), "udp" }, udp_mt)
end

-- ngx.req.socket: the request body (read-only), or the raw connection (raw = true).
local body = { receive = receive, receiveany = receiveany, receiveuntil = receiveuntil, settimeout = settimeout, settimeouts = settimeouts }
local body_mt = { __index = body, __gc = gc }
local raw = { receive = receive, receiveany = receiveany, receiveuntil = receiveuntil, settimeout = settimeout, settimeouts = settimeouts, send = send }
local raw_mt = { __index = raw, __gc = gc }

function ngx.req.socket(is_raw)
  reap()
  local id, err = js.req_socket(is_raw and true or false)
  if not id then return nil, err end
  return setmetatable({ id, "req" }, is_raw and raw_mt or body_mt)
end

return tcp_mt
`;

/** ngx.socket.connect, compiled as its own chunk so that its errors read `ngx.socket.connect:1: ...` as OpenResty's do. */
export const CONNECT_LUA = String.raw`local tcp_new, mt, setmetatable = ... return function(...) local sock = setmetatable({ tcp_new(true) }, mt)
  local ok, err = sock:connect(...)
  if not ok then return nil, err end
  return sock
end`;
