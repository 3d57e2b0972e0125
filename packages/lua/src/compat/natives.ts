// The JS side of the bundled Lua modules (src/lualib): what Lua cannot do itself.

import { readFileSync, realpathSync } from 'node:fs';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { RequestInstall } from '../ngx/request.js';
import type { LuaRef } from '../vm/index.js';
import { installCryptoNatives } from './crypto.js';

export interface NativeOptions {
  /** lua.prefix (absolute): io reads files under it only. */
  prefix: string;
  /** lua.env: names os.getenv may read, or NAME=value. */
  env: readonly string[] | undefined;
  /** The engine's errorLogLevel ("error" when not set). */
  errorLogLevel: string | undefined;
  /** Logs a message as given (ngx.errlog.raw_log), outside or inside a request. */
  rawLog: (level: number, message: string) => void;
}

/** nginx's log levels as ngx.* numbers (ngx.ERR is 4). */
const LEVEL_NUMBERS: Record<string, number> = { emerg: 1, alert: 2, crit: 3, error: 4, warn: 5, notice: 6, info: 7, debug: 8 };

/** LuaJIT's names for the platform (jit.os, ffi.os). */
const OS_NAMES: Record<string, string> = { linux: 'Linux', darwin: 'OSX', win32: 'Windows', freebsd: 'BSD', openbsd: 'BSD', netbsd: 'BSD' };
const ARCH_NAMES: Record<string, string> = { x64: 'x64', arm64: 'arm64', ia32: 'x86', arm: 'arm', ppc64: 'ppc64', s390x: 's390x', mips: 'mips' };

/** Builds the `native` table handed to every bundled module. */
export function createNatives(ctx: RequestInstall, options: NativeOptions): LuaRef {
  const { vm } = ctx;
  const native = vm.newTable();
  vm.setField(native, 'os', OS_NAMES[process.platform] ?? 'Other');
  vm.setField(native, 'arch', ARCH_NAMES[process.arch] ?? process.arch);
  ctx.fn(native, 'new_userdata', (call) => {
    call.pushUserdata();
    return 1;
  });
  // resty.core.base.get_request(): a handle for the running request (a number), nil outside one
  const ids = new WeakMap<object, number>();
  let nextId = 1;
  ctx.fn(native, 'get_request', (call) => {
    const r = ctx.maybeRequest();
    if (r === undefined) {
      call.pushNil();
      return 1;
    }
    let id = ids.get(r);
    if (id === undefined) {
      id = nextId++;
      ids.set(r, id);
    }
    call.pushInteger(id);
    return 1;
  });
  vm.setField(native, 'errlog_level', LEVEL_NUMBERS[options.errorLogLevel ?? 'error'] ?? 4);
  vm.setField(native, 'master_pid', process.ppid);
  ctx.fn(native, 'raw_log', (call) => {
    options.rawLog(call.checkNumber(1), call.checkString(2));
    return 0;
  });
  ctx.fn(native, 'monotonic_msec', (call) => {
    call.pushInteger(Number(process.hrtime.bigint() / 1000000n));
    return 1;
  });
  installFileRead(ctx, native, options.prefix);
  installGetenv(ctx, native, options.env ?? []);
  installCryptoNatives(ctx, native);
  return native;
}

function installFileRead(ctx: RequestInstall, native: LuaRef, prefix: string): void {
  let root: string | undefined;
  const rootOf = (): string => {
    if (root === undefined) {
      try {
        root = realpathSync(prefix);
      } catch {
        root = prefix;
      }
    }
    return root;
  };
  // io.open(path): nil, "path: reason", errno as Lua's io gives it; paths outside lua.prefix (after
  // resolving links) read as permission denied.
  ctx.fn(native, 'read_file', (call) => {
    const path = call.checkString(1);
    const full = resolve(isAbsolute(path) ? path : join(prefix, path));
    if (!inside(full, resolve(prefix)) && !inside(full, rootOf())) return denied(call, path);
    let real: string;
    try {
      real = realpathSync(full);
    } catch (err) {
      return fail(call, path, err);
    }
    // a link may lead outside
    if (!inside(real, rootOf())) return denied(call, path);
    try {
      call.pushBytes(readFileSync(real));
      return 1;
    } catch (err) {
      return fail(call, path, err);
    }
  });
}

function inside(path: string, base: string): boolean {
  return path === base || path.startsWith(base.endsWith(sep) ? base : base + sep);
}

function denied(call: Parameters<Parameters<RequestInstall['fn']>[2]>[0], path: string): number {
  call.pushNil();
  call.pushString(`${path}: Permission denied (outside lua.prefix)`);
  call.pushInteger(13);
  return 3;
}

const ERRNO: Record<string, [number, string]> = {
  ENOENT: [2, 'No such file or directory'],
  EACCES: [13, 'Permission denied'],
  EISDIR: [21, 'Is a directory'],
  ENOTDIR: [20, 'Not a directory'],
  ELOOP: [40, 'Too many levels of symbolic links'],
};

function fail(call: Parameters<Parameters<RequestInstall['fn']>[2]>[0], path: string, err: unknown): number {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const [errno, text] = ERRNO[code] ?? [5, 'Input/output error'];
  call.pushNil();
  call.pushString(`${path}: ${text}`);
  call.pushInteger(errno);
  return 3;
}

function installGetenv(ctx: RequestInstall, native: LuaRef, env: readonly string[]): void {
  // nginx's env directive: "NAME" passes the variable through, "NAME=value" sets it.
  const allowed = new Map<string, string | undefined>([['TZ', undefined]]); // nginx keeps TZ by default
  for (const entry of env) {
    const eq = entry.indexOf('=');
    if (eq < 0) allowed.set(entry, undefined);
    else allowed.set(entry.slice(0, eq), entry.slice(eq + 1));
  }
  ctx.fn(native, 'getenv', (call) => {
    const name = call.checkString(1);
    if (!allowed.has(name)) {
      call.pushNil();
      return 1;
    }
    const value = allowed.get(name) ?? process.env[name];
    if (value === undefined) call.pushNil();
    else call.pushString(value);
    return 1;
  });
}
