-- lua-resty-core's resty.core.base for phasekit: the helpers libraries use (new_tab, clear_tab,
-- get_request, string buffers, FFI_* return codes), without FFI calls into nginx.
local native = select(2, ...)
local ffi = require "ffi"
local type, select, error, ceil = type, select, error, math.ceil

local _M = {
  version = "0.1.25",
  new_tab = table.new,
  clear_tab = table.clear,
  FFI_OK = 0, FFI_NO_REQ_CTX = -100, FFI_BAD_CONTEXT = -101, FFI_ERROR = -1,
  FFI_AGAIN = -2, FFI_BUSY = -3, FFI_DONE = -4, FFI_DECLINED = -5,
}

local str_buf_size = 4096
local str_buf
local size_ptr, errmsg_ptr

function _M.get_errmsg_ptr()
  errmsg_ptr = errmsg_ptr or ffi.new("char *[1]")
  return errmsg_ptr
end

function _M.get_size_ptr()
  size_ptr = size_ptr or ffi.new("size_t[1]")
  return size_ptr
end

function _M.set_string_buf_size(size)
  if size <= 0 then return end
  if str_buf then str_buf = nil end
  str_buf_size = ceil(size)
end

function _M.get_string_buf_size() return str_buf_size end

-- a scratch char buffer of at least size bytes (shared unless must_alloc or too small)
function _M.get_string_buf(size, must_alloc)
  if size > str_buf_size or must_alloc then return ffi.new("char[?]", size) end
  str_buf = str_buf or ffi.new("char[?]", str_buf_size)
  return str_buf
end

local FREE_LIST_REF = 0
function _M.ref_in_table(tb, key)
  if key == nil then return -1 end
  local ref = tb[FREE_LIST_REF]
  if ref and ref ~= 0 then
    tb[FREE_LIST_REF] = tb[ref]
  else
    ref = #tb + 1
  end
  tb[ref] = key
  return ref
end

function _M.allows_subsystem(...)
  for i = 1, select("#", ...) do
    if select(i, ...) == "http" then return end
  end
  error("unsupported subsystem: http", 2)
end

-- a handle for the running request (a number here), nil outside a request
_M.get_request = native.get_request

return _M
