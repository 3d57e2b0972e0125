// ngx.escape_uri/unescape_uri/encode_args/decode_args, base64, md5/sha1/hmac_sha1, crc32 and quote_sql_str.

import { createHash, createHmac } from 'node:crypto';
import * as zlib from 'node:zlib';
import { encodeArgPairs, escapeUri, parseArgs, unescapeUri } from '@phasekit/core';
import type { NgxInstall } from './install.js';
import { pushArgs } from './request.js';

const EMPTY = new Uint8Array(0);

// The URI and query-string functions bind to core's text layer (one byte-exact implementation for
// TypeScript and Lua); Lua checks the arguments and flattens tables. Hashing and base64 call JS once.
// Messages and levels follow resty.core (uri.lua, base64.lua, hash.lua) and, for the functions
// lua-nginx-module still implements in C (encode_args, decode_args, hmac_sha1, quote_sql_str),
// luaL_error/luaL_argerror, which put no "file:line:" in front.
const STRING_LUA = String.raw`
local ngx, js_escape, js_unescape, js_decode_args, js_encode_args, js_b64enc, js_b64dec, js_digest, js_hmac, js_crc32 = ...
local type, tostring, error, select, pairs, tonumber = type, tostring, error, select, pairs, tonumber
local mtype, fmt, char, byte, gsub, concat = math.type, string.format, string.char, string.byte, string.gsub, table.concat

-- LuaJIT's number formatting (%.14g), so ngx.md5(1) hashes "1" and encode_args({a = 2.0}) gives "a=2".
local function num2s(n)
  if mtype(n) == "integer" then return fmt("%d", n) end
  return fmt("%.14g", n)
end
local function tostr(s)
  local t = type(s)
  if t == "string" then return s end
  if not s then return "" end
  if t == "number" then return num2s(s) end
  return tostring(s)
end

function ngx.escape_uri(s, esc_type)
  s = tostr(s)
  if esc_type == nil then return js_escape(s, 2) end
  if type(esc_type) ~= "number" then error("\"type\" is not a number", 3) end
  if esc_type < 0 or esc_type > 6 then error("\"type\" " .. num2s(esc_type) .. " out of range", 3) end
  return js_escape(s, esc_type // 1)
end

function ngx.unescape_uri(s)
  return js_unescape(tostr(s))
end

function ngx.decode_args(...)
  local n = select("#", ...)
  if n ~= 1 and n ~= 2 then error("expecting 1 or 2 arguments but seen " .. n, 0) end
  local s, max = ...
  if n == 2 then
    local m = tonumber(max)
    if m == nil then error("bad argument #2 to 'decode_args' (number expected, got " .. type(max) .. ")", 0) end
    max = m >= 0 and m // 1 or -((-m) // 1)
  else
    max = 100
  end
  local t = type(s)
  if t == "number" then s = num2s(s)
  elseif t ~= "string" then error("bad argument #1 to 'decode_args' (string expected, got " .. t .. ")", 0) end
  return js_decode_args(s, max)
end

function ngx.encode_args(...)
  local n = select("#", ...)
  if n ~= 1 then error("expecting 1 argument but seen " .. n, 0) end
  local args = ...
  if type(args) ~= "table" then error("bad argument #1 to 'encode_args' (table expected, got " .. type(args) .. ")", 0) end
  -- Keys and values cross as one flat list, in pairs() order (as lua_next walks the table).
  local out, m = {}, 0
  local function add(k, v, t)
    if t == "string" or t == "boolean" then m = m + 2; out[m - 1] = k; out[m] = v
    elseif t == "number" then m = m + 2; out[m - 1] = k; out[m] = num2s(v)
    else error("attempt to use " .. t .. " as query arg value", 0) end
  end
  for k, v in pairs(args) do
    if type(k) ~= "string" then error("attempt to use a non-string key in the \"args\" option table", 0) end
    local t = type(v)
    if t == "table" then
      for _, item in pairs(v) do add(k, item, type(item)) end
    else
      add(k, v, t)
    end
  end
  return js_encode_args(table.unpack(out, 1, m))
end

function ngx.encode_base64(s, no_padding)
  s = tostr(s)
  if no_padding then
    if no_padding ~= true then error("bad no_padding: boolean expected, got " .. type(no_padding), 2) end
  else
    no_padding = false
  end
  return js_b64enc(s, no_padding)
end

function ngx.decode_base64(s)
  if type(s) ~= "string" then error("string argument only", 2) end
  return js_b64dec(s)
end

function ngx.md5(s) return js_digest(tostr(s), 0) end
function ngx.md5_bin(s) return js_digest(tostr(s), 1) end
function ngx.sha1_bin(s) return js_digest(tostr(s), 2) end
function ngx.crc32_short(s) return js_crc32(tostr(s)) end
function ngx.crc32_long(s) return js_crc32(tostr(s)) end

local function check_string(v, i, name)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" then return num2s(v) end
  error("bad argument #" .. i .. " to '" .. name .. "' (string expected, got " .. t .. ")", 0)
end

function ngx.hmac_sha1(...)
  local n = select("#", ...)
  if n ~= 2 then error("expecting 2 arguments, but got " .. n, 0) end
  local key, s = ...
  return js_hmac(check_string(key, 1, "hmac_sha1"), check_string(s, 2, "hmac_sha1"))
end

local SQL_ESC = { ["\0"] = "\\0", ["\b"] = "\\b", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t", ["\26"] = "\\Z",
  ["\\"] = "\\\\", ["'"] = "\\'", ['"'] = '\\"' }

function ngx.quote_sql_str(...)
  if select("#", ...) ~= 1 then error("expecting one argument", 0) end
  local s = check_string((...), 1, "quote_sql_str")
  return "'" .. gsub(s, "[\0\b\n\r\t\26\\'\"]", SQL_ESC) .. "'"
end
`;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALID = new Uint8Array(256);
for (let i = 0; i < B64.length; i++) B64_VALID[B64.charCodeAt(i)] = 1;

/** nginx's ngx_decode_base64: stops at the first '=', rejects other bytes outside the alphabet and a lone trailing char. */
function decodeBase64(src: Uint8Array): Uint8Array | null {
  let len = 0;
  for (; len < src.length; len++) {
    const c = src[len] as number;
    if (c === 0x3d) break;
    if (B64_VALID[c] === 0) return null;
  }
  if (len % 4 === 1) return null;
  // Buffer drops the unused low bits of a final partial group, as nginx does
  return Buffer.from(Buffer.from(src.buffer, src.byteOffset, len).toString('latin1'), 'base64');
}

const CRC_TABLE = /* @__PURE__ */ (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** zlib's CRC-32 (node:zlib has it from Node 20.15; the table version covers older runtimes). */
function crc32(data: Uint8Array): number {
  const native = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
  if (native !== undefined) return native(data);
  let c = 0xffffffff;
  for (const b of data) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Installs the string, encoding and hashing functions into `ctx.ngx`. */
export function installString(ctx: NgxInstall): void {
  const { vm } = ctx;
  const fns = [
    vm.createFunction((call) => {
      call.pushValue(escapeUri(call.bytes(1) ?? EMPTY, call.number(2) ?? 2));
      return 1;
    }, 'escape_uri'),
    vm.createFunction((call) => {
      call.pushValue(unescapeUri(call.bytes(1) ?? EMPTY));
      return 1;
    }, 'unescape_uri'),
    vm.createFunction((call) => pushArgs(call, parseArgs(call.bytes(1) ?? EMPTY, call.number(2) ?? 100, 'separators')), 'decode_args'),
    vm.createFunction((call) => {
      const pairs: [Uint8Array, Uint8Array | boolean][] = [];
      for (let i = 1; i < call.argCount; i += 2) {
        const v = call.value(i + 1);
        pairs.push([call.bytes(i) ?? EMPTY, typeof v === 'boolean' ? v : (call.bytes(i + 1) ?? EMPTY)]);
      }
      call.pushValue(encodeArgPairs(pairs));
      return 1;
    }, 'encode_args'),
    vm.createFunction((call) => {
      const s = Buffer.from(call.bytes(1) ?? new Uint8Array()).toString('base64');
      call.pushString(call.boolean(2) ? s.replace(/=+$/, '') : s);
      return 1;
    }, 'encode_base64'),
    vm.createFunction((call) => {
      const out = decodeBase64(call.bytes(1) ?? new Uint8Array());
      if (out === null) call.pushNil();
      else call.pushBytes(out);
      return 1;
    }, 'decode_base64'),
    vm.createFunction((call) => {
      const kind = call.number(2);
      const h = createHash(kind === 2 ? 'sha1' : 'md5').update(call.bytes(1) ?? new Uint8Array());
      if (kind === 0) call.pushString(h.digest('hex'));
      else call.pushBytes(h.digest());
      return 1;
    }, 'md5'),
    vm.createFunction((call) => {
      call.pushBytes(
        createHmac('sha1', call.bytes(1) ?? new Uint8Array())
          .update(call.bytes(2) ?? new Uint8Array())
          .digest(),
      );
      return 1;
    }, 'hmac_sha1'),
    vm.createFunction((call) => {
      call.pushNumber(crc32(call.bytes(1) ?? new Uint8Array()));
      return 1;
    }, 'crc32'),
  ];
  vm.run(STRING_LUA, 'ngx.string', ctx.ngx, ...fns);
  for (const f of fns) f.release();
}
