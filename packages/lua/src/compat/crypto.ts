// node:crypto for the bundled resty.md5/sha*/random/aes modules: digests, random bytes, ciphers.

import { createCipheriv, createDecipheriv, createHash, getCiphers, randomBytes, type CipherGCM, type DecipherGCM } from 'node:crypto';
import type { RequestInstall } from '../ngx/request.js';
import type { LuaRef } from '../vm/index.js';

const DIGESTS = new Set(['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512']);
const CIPHERS = new Set(getCiphers());

/** OpenSSL's EVP_BytesToKey: key and iv from a password, an optional 8-byte salt and a digest. */
export function bytesToKey(md: string, password: Buffer, salt: Buffer | undefined, rounds: number, keyLen: number, ivLen: number): [Buffer, Buffer] {
  const out: Buffer[] = [];
  let total = 0;
  let prev = Buffer.alloc(0);
  while (total < keyLen + ivLen) {
    let d = createHash(md).update(prev).update(password).update(salt ?? Buffer.alloc(0)).digest();
    for (let i = 1; i < rounds; i++) d = createHash(md).update(d).digest();
    out.push(d);
    total += d.length;
    prev = d;
  }
  const all = Buffer.concat(out);
  return [all.subarray(0, keyLen), all.subarray(keyLen, keyLen + ivLen)];
}

export function installCryptoNatives(ctx: RequestInstall, native: LuaRef): void {
  ctx.fn(native, 'digest', (call) => {
    const alg = call.checkString(1);
    if (!DIGESTS.has(alg)) return call.argError(1, `unknown digest '${alg}'`);
    call.pushBytes(createHash(alg).update(call.checkBytes(2)).digest());
    return 1;
  });
  ctx.fn(native, 'random_bytes', (call) => {
    const n = call.checkNumber(1);
    call.pushBytes(randomBytes(Math.max(0, Math.floor(n))));
    return 1;
  });
  ctx.fn(native, 'has_cipher', (call) => {
    call.pushBoolean(CIPHERS.has(call.checkString(1)));
    return 1;
  });
  ctx.fn(native, 'bytes_to_key', (call) => {
    const md = call.checkString(1);
    if (!DIGESTS.has(md)) return call.argError(1, `unknown digest '${md}'`);
    const password = Buffer.from(call.checkBytes(2));
    const salt = call.isNil(3) ? undefined : Buffer.from(call.checkBytes(3));
    const [key, iv] = bytesToKey(md, password, salt, call.checkNumber(4), call.checkNumber(5), call.checkNumber(6));
    call.pushBytes(key);
    call.pushBytes(iv);
    return 2;
  });
  // cipher(name, encrypt, key, iv, data, padding, tag?, aad?) -> out [, tag] | nil, err
  ctx.fn(native, 'cipher', (call) => {
    const name = call.checkString(1);
    const encrypt = call.boolean(2);
    const key = call.checkBytes(3);
    const iv = call.isNil(4) ? null : call.checkBytes(4);
    const data = call.checkBytes(5);
    const padding = call.boolean(6);
    const tag = call.isNil(7) ? undefined : call.checkBytes(7);
    const aad = call.isNil(8) ? undefined : call.checkBytes(8);
    const gcm = name.endsWith('-gcm');
    try {
      if (encrypt) {
        const c = createCipheriv(name, key, iv);
        c.setAutoPadding(padding);
        if (gcm && aad !== undefined) (c as CipherGCM).setAAD(aad);
        const out = Buffer.concat([c.update(data), c.final()]);
        call.pushBytes(out);
        if (gcm) {
          call.pushBytes((c as CipherGCM).getAuthTag());
          return 2;
        }
        return 1;
      }
      const d = createDecipheriv(name, key, iv);
      d.setAutoPadding(padding);
      if (gcm && tag !== undefined) (d as DecipherGCM).setAuthTag(tag);
      if (gcm && aad !== undefined) (d as DecipherGCM).setAAD(aad);
      call.pushBytes(Buffer.concat([d.update(data), d.final()]));
      return 1;
    } catch (err) {
      call.pushNil();
      call.pushString((err as Error).message);
      return 2;
    }
  });
}
