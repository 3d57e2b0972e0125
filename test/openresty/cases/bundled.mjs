// OpenResty's bundled Lua modules as libraries use them: resty.lrucache (+ pureffi), resty.lock,
// resty.string and the digest/aes/random modules, resty.core and resty.core.base, ngx.base64,
// ngx.errlog, ngx.resp, ngx.req, ngx.process. (Recording needs OPENRESTY_LUALIB naming the lib/
// folders of lua-resty-lock and lua-resty-string, which Debian's nginx does not ship.)
import { content } from '../case-helpers.mjs';

const b = (name, lua, requests, extra) => content(`bundled: ${name}`, lua, requests, extra);

export default [
  b('resty.lrucache get, set, eviction, keys', String.raw`local lrucache = require "resty.lrucache"
local c = assert(lrucache.new(3))
c:set("a", 1); c:set("b", { 2 }); c:set("c", "three", nil, 5)
ngx.say(c:get("a"), " ", c:get("b")[1], " ", c:get("c"))
c:get("a")
c:set("d", 4)
ngx.say(tostring(c:get("b")), " ", c:count(), " ", c:capacity(), " ", table.concat(c:get_keys(), ","))
ngx.say(table.concat(c:get_keys(2), ","), " ", c:delete("a"), " ", c:delete("zz"), " ", c:count())
local res = { "x", "x", "x", "x" }
c:get_keys(0, res)
ngx.say(#res, " ", res[1], " ", tostring(res[3]))
c:flush_all()
ngx.say(c:count(), " ", tostring(c:get("d")))
ngx.say(lrucache.new(0))`),
  b('resty.lrucache ttl and stale values', String.raw`local lrucache = require "resty.lrucache"
local c = assert(lrucache.new(2))
c:set("k", "v", 0.01, 3)
c:set("forever", "f", nil, -1)
ngx.sleep(0.05)
ngx.say(c:get("k"))
ngx.say(c:get("forever"))`),
  b('resty.lrucache.pureffi', String.raw`local lrucache = require "resty.lrucache.pureffi"
local c = assert(lrucache.new(2, 0.5))
c:set("a", 1); c:set("b", 2); c:get("a"); c:set("c", 3)
ngx.say(c:get("a"), " ", tostring(c:get("b")), " ", c:get("c"), " ", c:count())`),
  b('resty.lock', String.raw`local resty_lock = require "resty.lock"
local lock = assert(resty_lock:new("locks"))
ngx.say(lock:lock("k1"))
ngx.say(lock:lock("k2"))
local other = resty_lock:new("locks", { timeout = 0 })
ngx.say(other:lock("k1"))
ngx.say(lock:expire(5), " ", ngx.shared.locks:get("k1"))
ngx.say(lock:unlock(), " ", tostring(ngx.shared.locks:get("k1")))
ngx.say(lock:unlock())
ngx.say(lock:expire())
ngx.say(resty_lock:new("nope"))
ngx.say(lock:lock(nil))`, [{}], { sharedDicts: { locks: '100k' } }),
  b('resty.lock waits for an expiring lock', String.raw`local resty_lock = require "resty.lock"
local a = resty_lock:new("locks", { exptime = 0.05 })
ngx.say(a:lock("k"))
local b = resty_lock:new("locks", { timeout = 1, step = 0.01 })
local elapsed, err = b:lock("k")
ngx.say(elapsed ~= nil and elapsed > 0, " ", tostring(err))
local c = resty_lock:new("locks", { timeout = 0.03, step = 0.01 })
ngx.say(c:lock("k"))`, [{}], { sharedDicts: { locks: '100k' } }),
  b('resty.string and digests', String.raw`local str = require "resty.string"
for _, name in ipairs({ "md5", "sha1", "sha224", "sha256", "sha384", "sha512" }) do
  local d = require("resty." .. name):new()
  d:update("ab"); d:update("cdxyz", 3)
  ngx.say(name, " ", str.to_hex(d:final()))
end
local d = require("resty.md5"):new()
d:update("x"); d:final(); d:reset(); d:update("abc")
ngx.say("reset ", str.to_hex(d:final()))
ngx.say(str.to_hex("\0\15\255"), " ", str.atoi("42"), " ", str.atoi("4x"), " ", str.atoi(""))`),
  b('resty.aes', String.raw`local aes = require "resty.aes"
local str = require "resty.string"
local a = assert(aes:new("secret"))
local e = a:encrypt("message to hide")
ngx.say(str.to_hex(e), " ", a:decrypt(e))
local s = assert(aes:new("secret", "12345678", aes.cipher(256, "cbc"), aes.hash.sha256, 3))
ngx.say(str.to_hex(s:encrypt("x")))
local iv = assert(aes:new("0123456789abcdef", nil, aes.cipher(128, "ctr"), { iv = "fedcba9876543210" }))
ngx.say(str.to_hex(iv:encrypt("counter mode")))
local g = assert(aes:new("0123456789abcdef0123456789abcdef", nil, aes.cipher(256, "gcm"), { iv = "0123456789ab" }))
local out = g:encrypt("sealed", "aad")
ngx.say(str.to_hex(out[1]), " ", str.to_hex(out[2]), " ", g:decrypt(out[1], out[2], "aad"))
ngx.say(aes:new("short", nil, aes.cipher(128, "cbc"), { iv = "x" }))
ngx.say(aes:new("k", "salt"))
ngx.say(a:decrypt("not a multiple of the block size"))
local ok, err = pcall(aes.cipher, 128, "nope")
ngx.say(ok, " ", err:match("missing declaration for symbol '[^']+'"))`),
  b('resty.random', String.raw`local random = require "resty.random"
local a, b = random.bytes(16), random.bytes(16, true)
ngx.say(#a, " ", #b, " ", a ~= b)`),
  b('resty.core and resty.core.base', String.raw`local core = require "resty.core"
local base = require "resty.core.base"
ngx.say(type(core.version), " ", base.version == core.version)
local t = base.new_tab(0, 4); t.a = 1; base.clear_tab(t)
ngx.say(next(t) == nil, " ", base.get_request() ~= nil)
ngx.say(base.FFI_OK, " ", base.FFI_ERROR, " ", base.FFI_AGAIN, " ", base.FFI_BUSY, " ", base.FFI_DONE, " ", base.FFI_DECLINED, " ", base.FFI_NO_REQ_CTX, " ", base.FFI_BAD_CONTEXT)
local refs = {}
ngx.say(base.ref_in_table(refs, "x"), " ", base.ref_in_table(refs, "y"), " ", base.ref_in_table(refs, nil))
ngx.say(pcall(base.allows_subsystem, "http"))
ngx.say(pcall(base.allows_subsystem, "stream"))
for _, m in ipairs({ "shdict", "regex", "var", "time", "ctx", "exit", "hash", "uri", "base64", "request", "response", "phase", "worker", "misc", "utils" }) do
  assert(require("resty.core." .. m))
end
ngx.say(type(require("resty.core.time").monotonic_msec()), " ", require("resty.core.utils").str_replace_char("a-b-c", "-", "_"))`),
  b('ngx.base64', String.raw`local b64 = require "ngx.base64"
ngx.say(b64.encode_base64url("\255\254hi?>"), " ", b64.encode_base64url(""))
ngx.say(b64.decode_base64url("__5oaT8-"), " ", b64.decode_base64url("aGk"))
ngx.say(b64.decode_base64url("a=b"))
ngx.say(b64.decode_base64url("abcde"))`),
  b('ngx.errlog', String.raw`local errlog = require "ngx.errlog"
ngx.say(errlog.get_sys_filter_level(), " ", ngx.INFO)
errlog.raw_log(ngx.WARN, "raw message from a case")
ngx.say(pcall(errlog.raw_log, "x", "y"))
ngx.say(pcall(errlog.raw_log, ngx.ERR, 1))
ngx.say(errlog.set_filter_level(ngx.WARN))
ngx.say(errlog.get_logs(10))`, [{}], { log: true }),
  b('ngx.resp.add_header', String.raw`local resp = require "ngx.resp"
ngx.header["X-Multi"] = "0"
resp.add_header("X-Multi", "1")
resp.add_header("X-Multi", { "2", "3" })
resp.add_header("X-New", "n")
ngx.say(table.concat(ngx.resp.get_headers()["x-multi"], ","), " ", ngx.header["X-New"])`),
  b('ngx.req.add_header', String.raw`local req = require "ngx.req"
req.add_header("X-Added", "v1")
req.add_header("X-Added", "v2")
req.add_header("X-Case", "c")
local h = ngx.req.get_headers()
ngx.say(table.concat(h["x-added"], ","), " ", table.concat(h["x-case"], ","))`, [{ headers: { 'X-Case': 'orig' } }]),
  b('ngx.process', String.raw`local process = require "ngx.process"
ngx.say(process.type(), " ", type(process.get_master_pid()))
ngx.say(process.enable_privileged_agent())`),
];
