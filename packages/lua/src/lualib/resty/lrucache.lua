-- OpenResty's resty.lrucache for phasekit: a per-VM LRU cache of Lua values with optional TTLs
-- and user flags, in plain Lua (a doubly linked list of nodes and a key -> node table).
local type, setmetatable = type, setmetatable
local ngx_now = ngx.now

local _M = { _VERSION = "0.13" }
local mt = { __index = _M }

local function unlink(node)
  node.prev.next = node.next
  node.next.prev = node.prev
end

local function push_head(q, node)
  node.next = q.next
  node.prev = q
  q.next.prev = node
  q.next = node
end

function _M.new(size)
  if size < 1 then return nil, "size too small" end
  local q = {}
  q.next, q.prev = q, q
  return setmetatable({ q = q, nodes = {}, num_items = 0, max_items = size }, mt)
end

function _M.count(self) return self.num_items end

function _M.capacity(self) return self.max_items end

-- value, nil, flags; or nil, stale value, flags once the TTL has passed; or nil
function _M.get(self, key)
  local node = self.nodes[key]
  if node == nil or node.value == nil then return nil end
  unlink(node)
  push_head(self.q, node)
  if node.expire >= 0 and node.expire < ngx_now() then
    return nil, node.value, node.flags
  end
  return node.value, nil, node.flags
end

function _M.delete(self, key)
  local node = self.nodes[key]
  if node == nil then return false end
  self.nodes[key] = nil
  unlink(node)
  self.num_items = self.num_items - 1
  return true
end

function _M.set(self, key, value, ttl, flags)
  local nodes, q = self.nodes, self.q
  local node = nodes[key]
  if node == nil then
    if self.num_items >= self.max_items then
      -- evict the least recently used key and reuse its node
      node = q.prev
      nodes[node.key] = nil
      unlink(node)
    else
      node = {}
      self.num_items = self.num_items + 1
    end
    node.key = key
    nodes[key] = node
  else
    unlink(node)
  end
  push_head(q, node)
  node.value = value
  node.expire = ttl and ngx_now() + ttl or -1
  node.flags = (type(flags) == "number" and flags >= 0) and flags or 0
end

-- keys from the most recently used, up to max_count (0 or nil: all), nil-terminated in res
function _M.get_keys(self, max_count, res)
  if not max_count or max_count == 0 then max_count = self.num_items end
  res = res or {}
  local q = self.q
  local node, i = q.next, 0
  while node ~= q and i < max_count do
    i = i + 1
    res[i] = node.key
    node = node.next
  end
  res[i + 1] = nil
  return res
end

function _M.flush_all(self)
  local q = self.q
  q.next, q.prev = q, q
  self.nodes = {}
  self.num_items = 0
end

return _M
