-- lua-resty-string's resty.aes for phasekit on node:crypto: AES in ECB, CBC, CFB1/8/128, OFB,
-- CTR and GCM modes; key and iv derived with OpenSSL's EVP_BytesToKey, or given.
local native = select(2, ...)
local type, setmetatable, rep, sub, error, tostring = type, setmetatable, string.rep, string.sub, error, tostring
local run_cipher, has_cipher, bytes_to_key = native.cipher, native.has_cipher, native.bytes_to_key

local _M = { _VERSION = "0.14" }
local mt = { __index = _M }

-- hash.md5 ... name the digest EVP_BytesToKey uses
_M.hash = { md5 = "md5", sha1 = "sha1", sha224 = "sha224", sha256 = "sha256", sha384 = "sha384", sha512 = "sha512" }

local MODE_NAMES = { ecb = "ecb", cbc = "cbc", cfb1 = "cfb1", cfb8 = "cfb8", cfb128 = "cfb", ofb = "ofb", ctr = "ctr", gcm = "gcm" }
-- the iv length OpenSSL gives each mode
local IV_LENGTHS = { ecb = 0, gcm = 12 }

function _M.cipher(size, mode)
  size = size or 128
  mode = mode or "cbc"
  local m = MODE_NAMES[mode]
  local name = "aes-" .. size .. "-" .. tostring(m)
  -- an unknown size or mode fails as the FFI lookup of EVP_aes_<size>_<mode> does
  if m == nil or not has_cipher(name) then
    error("missing declaration for symbol 'EVP_aes_" .. tostring(size) .. "_" .. tostring(mode) .. "'", 2)
  end
  return { size = size, cipher = mode, method = name }
end

function _M.new(self, key, salt, cipher, hash, hash_rounds, iv_len, enable_padding)
  cipher = cipher or _M.cipher()
  hash = hash or _M.hash.md5
  hash_rounds = hash_rounds or 1
  local key_len = cipher.size // 8
  local mode_iv = IV_LENGTHS[cipher.cipher] or 16
  iv_len = iv_len or key_len
  local padding = enable_padding == nil or enable_padding and true or false
  local gen_key, gen_iv
  if type(hash) == "table" then
    if not hash.iv then return nil, "iv is needed" end
    iv_len = #hash.iv
    if iv_len > key_len then return nil, "bad iv length" end
    if hash.method then
      gen_key = hash.method(key)
      if #gen_key ~= key_len then return nil, "bad key length" end
    elseif #key ~= key_len then
      return nil, "bad key length"
    else
      gen_key = key
    end
    gen_iv = hash.iv
  else
    if salt and #salt ~= 8 then return nil, "salt must be 8 characters or nil" end
    gen_key, gen_iv = bytes_to_key(hash, key, salt, hash_rounds, key_len, mode_iv)
  end
  local iv
  if cipher.cipher == "gcm" then
    iv = sub(gen_iv .. rep("\0", iv_len), 1, iv_len)
  elseif mode_iv > 0 then
    iv = sub(gen_iv .. rep("\0", mode_iv), 1, mode_iv)
  end
  return setmetatable({ _method = cipher.method, _cipher = cipher.cipher, _key = gen_key, _iv = iv, _padding = padding }, mt)
end

-- the ciphertext; with GCM, { ciphertext, tag }
function _M.encrypt(self, s, aad)
  local out, tag = run_cipher(self._method, true, self._key, self._iv, s, self._padding, nil, self._cipher == "gcm" and aad or nil)
  if out == nil then return nil, "EVP_EncryptFinal_ex failed" end
  if self._cipher == "gcm" then return { out, tag } end
  return out
end

function _M.decrypt(self, s, tag, aad)
  local gcm = self._cipher == "gcm"
  local out = run_cipher(self._method, false, self._key, self._iv, s, self._padding, gcm and tag or nil, gcm and aad or nil)
  if out == nil then return nil, "EVP_DecryptFinal_ex failed" end
  return out
end

return _M
