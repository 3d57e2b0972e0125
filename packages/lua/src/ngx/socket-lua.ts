// The Lua side of ngx.socket and ngx.req.socket: the socket objects (tables holding an id), their
// methods, argument checks with lua-nginx-module's messages, and send's table flattening.

export const SOCKET_LUA = String.raw`
local ngx, js = ...
local type, tostring, tonumber, select, error, setmetatable, getmetatable, rawget = type, tostring, tonumber, select, error, setmetatable, getmetatable, rawget
local concat, unpack = table.concat, table.unpack
local floor = math.floor

-- Objects that are collected release their JS side in batches (no JS call from a finalizer).
local dead = {}
local function gc(self) local id = rawget(self, 1) if id then dead[#dead + 1] = id end end
local function reap()
  local d = dead
  if d[1] == nil then return end
  dead = {}
  js.release(unpack(d))
end

local function flatten(t, out, n, fname)
  for i = 1, #t do
    local v = t[i]
    local tv = type(v)
    if tv == "string" or tv == "number" then
      n = n + 1
      out[n] = v
    elseif tv == "table" then
      n = flatten(v, out, n, fname)
    else
      error("bad argument #2 to '" .. fname .. "' (bad data type " .. tv .. " found)", 0)
    end
  end
  return n
end

local function bytes(data, fname)
  local t = type(data)
  if t == "string" then return data end
  if t == "table" then
    local out = {}
    local n = flatten(data, out, 0, fname)
    return concat(out, "", 1, n)
  end
  return tostring(data)
end

local function id_of(self, fname)
  local id = type(self) == "table" and rawget(self, 1)
  if type(id) ~= "number" then error("bad argument #1 to '" .. fname .. "' (table expected, got " .. type(self) .. ")", 0) end
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
  local id = id_of(self, "receiveuntil")
  local tp = type(pattern)
  if tp == "number" then pattern = tostring(pattern)
  elseif tp ~= "string" then error("bad argument #2 to 'receiveuntil' (string expected, got " .. tp .. ")", 0) end
  local inclusive = false
  if opts ~= nil then
    if type(opts) ~= "table" then error("bad argument #3 to 'receiveuntil' (table expected, got " .. type(opts) .. ")", 0) end
    inclusive = opts.inclusive and true or false
  end
  local iid, err = js.until_new(id, pattern, inclusive)
  if not iid then return nil, err end
  return until_iterator(iid)
end

local function settimeout(self, ...)
  local n = select("#", ...)
  if n ~= 1 then error("ngx.socket settimeout: expecting 2 arguments (including the object) but seen " .. (n + 1), 0) end
  js.settimeouts(id_of(self, "settimeout"), timeout_arg(...), -1, -1)
end

local function settimeouts(self, ...)
  local n = select("#", ...)
  if n ~= 3 then error("ngx.socket settimeouts: expecting 4 arguments (including the object) but seen " .. (n + 1), 0) end
  local c, s, r = ...
  js.settimeouts(id_of(self, "settimeouts"), timeout_arg(c), timeout_arg(s), timeout_arg(r))
end

local function receive(self, p) return js.receive(id_of(self, "receive"), p) end
local function receiveany(self, max)
  local n = tonumber(max)
  if not n or n <= 0 then error("bad argument #2 to 'receiveany' (bad max argument)", 0) end
  return js.receiveany(id_of(self, "receiveany"), floor(n))
end
local function send(self, data)
  return js.send(id_of(self, "send"), bytes(data, "send"))
end

-- TCP
local tcp = {}
local tcp_mt = { __index = tcp, __gc = gc }

function tcp.connect(self, host, port, opts)
  local id = id_of(self, "connect")
  if type(host) ~= "string" then error("bad argument #2 to 'connect' (string expected, got " .. type(host) .. ")", 0) end
  if type(port) == "table" and opts == nil then opts, port = port, nil end
  if port ~= nil then
    local p = tonumber(port)
    if p == nil then error("bad argument #3 to 'connect' (number expected, got " .. type(port) .. ")", 0) end
    port = p
  end
  local pool, pool_size, backlog
  if type(opts) == "table" then
    pool = opts.pool
    if pool ~= nil then pool = tostring(pool) end
    pool_size = opts.pool_size
    if pool_size ~= nil then
      local v = tonumber(pool_size)
      if not v or v <= 0 then error("bad argument #4 to 'connect' (bad \"pool_size\" option value: " .. tostring(pool_size) .. ")", 0) end
      pool_size = floor(v)
    end
    backlog = opts.backlog
    if backlog ~= nil then
      local v = tonumber(backlog)
      if not v or v < 0 then error("bad argument #4 to 'connect' (bad \"backlog\" option value: " .. tostring(backlog) .. ")", 0) end
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
  local r, err = js.sslhandshake(id_of(self, "sslhandshake"), session, name, verify and true or false, ocsp and true or false)
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
  local id = id_of(self, "setkeepalive")
  if timeout ~= nil then
    if type(timeout) ~= "number" then error("bad argument #2 to 'setkeepalive' (number expected, got " .. type(timeout) .. ")", 0) end
    timeout = floor(timeout)
  end
  if size ~= nil then
    local v = tonumber(size)
    if not v or v <= 0 then
      js.close(id)
      error("bad argument #3 to 'setkeepalive' (bad \"pool_size\" option value: " .. tostring(size) .. ")", 0)
    end
    size = floor(v)
  end
  return js.setkeepalive(id, timeout, size)
end

function tcp.getreusedtimes(self) return js.getreusedtimes(id_of(self, "getreusedtimes")) end
function tcp.close(self) return js.close(id_of(self, "close")) end

function tcp.setoption(self, option, value)
  local id = id_of(self, "setoption")
  if option == nil then return nil, 'missing the "option" argument' end
  if value == nil then return nil, 'missing the "value" argument' end
  return js.setoption(id, tostring(option), value)
end

function tcp.getoption(self, option)
  local id = id_of(self, "getoption")
  if option == nil then return nil, 'missing the "option" argument' end
  return js.getoption(id, tostring(option))
end

function tcp.setclientcert(self, cert, pkey)
  if not cert and not pkey then return true end
  if not cert or not pkey then return nil, "client certificate must be supplied with corresponding private key" end
  return nil, "bad cert arg: cdata expected, got " .. type(cert)
end

function tcp.bind(self, ip)
  id_of(self, "bind")
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
  local id = id_of(self, "setpeername")
  if type(host) ~= "string" then error("bad argument #2 to 'setpeername' (string expected, got " .. type(host) .. ")", 0) end
  if port ~= nil then port = tonumber(port) end
  return js.udp_setpeername(id, host, port)
end
function udp.send(self, data)
  return js.udp_send(id_of(self, "send"), bytes(data, "send"))
end
function udp.receive(self, size)
  local id = id_of(self, "receive")
  if size ~= nil then
    local v = tonumber(size)
    if not v or v <= 0 or v > 65536 then error("bad argument #2 to 'receive' (bad size)", 0) end
    size = floor(v)
  end
  return js.udp_receive(id, size)
end
function udp.settimeout(self, ...)
  local n = select("#", ...)
  if n ~= 1 then error("ngx.socket settimeout: expecting 2 arguments (including the object) but seen " .. (n + 1), 0) end
  js.settimeouts(id_of(self, "settimeout"), timeout_arg(...), -1, -1)
end
function udp.close(self) return js.close(id_of(self, "close")) end
function udp.bind(self, ip)
  id_of(self, "bind")
  return nil, "bind is not supported"
end

function socket.udp()
  reap()
  return setmetatable({ js.udp_new() }, udp_mt)
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
  return setmetatable({ id }, is_raw and raw_mt or body_mt)
end

return tcp_mt
`;

/** ngx.socket.connect, compiled as its own chunk so that its errors read `ngx.socket.connect:1: ...` as OpenResty's do. */
export const CONNECT_LUA = String.raw`local tcp_new, mt, setmetatable = ... return function(...) local sock = setmetatable({ tcp_new(true) }, mt)
  local ok, err = sock:connect(...)
  if not ok then return nil, err end
  return sock
end`;
