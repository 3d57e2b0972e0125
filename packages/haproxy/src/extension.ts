// HAProxy's Lua contexts as an engine extension: config keys (luaLoad, actions, service,
// setHeaders, sample expressions in vars), registrations in TypeScript and Lua, tasks per generation.

import { BadArgumentError, HandlerError, NoRuntimeError, PhasekitError, type EngineExtension, type ExtensionContext, type ExtensionGeneration, type LocationCompile, type Ngx, type ScriptRuntime } from '@phasekit/core';
import type { LuaBinding } from '@phasekit/lua';
import { z } from 'zod';
import { builtinRegistry } from './builtins.js';
import { HaproxyGeneration } from './generation.js';
import { installHaproxy } from './lua/core.js';
import { HaproxyRegistry, luaName, type RegistryKind } from './registry.js';
import { httpReqHandler, httpResHandler, serviceHandler, type CompiledRule } from './rules.js';
import { compileTemplate, hasSample, parseCall, type CompiledTemplate } from './sample.js';
import type { ActionFn, ActionRuleset, ConverterFn, FetchFn, HaproxyRegistrations, ServiceFn, TaskFn } from './types.js';

/** `lua.auth` or `lua.tag(x,y)`: a registered action and its arguments (HAProxy's `http-request lua.tag x y`). */
const actionRef = z.string().regex(/^lua\.[A-Za-z0-9_.-]+(\(.*\))?$/s, 'an action is "lua.name" or "lua.name(arg1,arg2)"');
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name is a token (letters, digits, "-", ...)');

/** The config keys HAProxy's contexts add. */
export const haproxyConfigSchema = {
  engine: {
    /** HAProxy's lua-load: Lua files run once per start and reload (relative to lua.prefix), with `core` for registrations. */
    luaLoad: z.array(z.string().min(1)).optional(),
  },
  location: {
    /** Registered actions by rule list (HAProxy's http-request / http-response `lua.*` actions). */
    actions: z
      .object({
        /** Run in the access phase, before the location's own access handler. */
        'http-req': z.array(actionRef).optional(),
        /** Run in header_filter, before the location's own headerFilter handler. */
        'http-res': z.array(actionRef).optional(),
      })
      .strict()
      .optional(),
    /** A registered service (`lua.hello`) that produces the response: HAProxy's `use-service`. */
    service: z.string().regex(/^lua\.[A-Za-z0-9_.-]+$/, 'a service is "lua.name"').optional(),
    /** Response headers set before header_filter; values may hold `%[fetch,conv]` sample expressions and `$var`s. */
    setHeaders: z.record(headerName, z.string()).optional(),
  },
  contentKeys: ['service'],
} as const;

/** HAProxy's config keys, as TypeScript sees them: `luaLoad` at the top, these per location. */
export interface HaproxyLocationKeys {
  actions?: { 'http-req'?: string[]; 'http-res'?: string[] };
  service?: string;
  setHeaders?: Record<string, string>;
}

interface LocationKeys {
  vars?: Record<string, string>;
  actions?: { 'http-req'?: string[]; 'http-res'?: string[] };
  service?: string;
  setHeaders?: Record<string, string>;
}

/**
 * The HAProxy extension of an engine: give it to `createEngine`'s `extensions` (the `phasekit`
 * package does). TypeScript registrations made on it are seen by every generation; Lua's
 * (`core.register_*` in luaLoad files) stack on top for their generation.
 */
export class HaproxyExtension implements EngineExtension {
  readonly name = 'haproxy';
  readonly configSchema = haproxyConfigSchema;
  /** TypeScript registrations (over the built-ins); each generation's Lua ones stack on top. */
  readonly #registry = new HaproxyRegistry(builtinRegistry());
  readonly #tasks: { fn: TaskFn; args: readonly unknown[] }[] = [];
  /** The generation serving now, for registrations made while it runs. */
  #current: HaproxyGeneration | undefined;

  constructor(registrations: HaproxyRegistrations = {}) {
    for (const [name, fn] of Object.entries(registrations.fetches ?? {})) this.registerFetch(name, fn);
    for (const [name, fn] of Object.entries(registrations.converters ?? {})) this.registerConverter(name, fn);
    for (const [name, a] of Object.entries(registrations.actions ?? {})) this.registerAction(name, a.on, a.fn, a.nbArgs);
    for (const [name, fn] of Object.entries(registrations.services ?? {})) this.registerService(name, fn);
    for (const fn of registrations.tasks ?? []) this.registerTask(fn);
  }

  /** A sample fetch `lua.<name>`: `txn.f:lua_<name>()` in Lua, `%[lua.<name>]` in config. */
  registerFetch(name: string, fn: FetchFn): void {
    this.#register('fetch', name, () => this.#registry.addFetch(name, fn));
  }

  /** A converter `lua.<name>`: `txn.c:lua_<name>(s)` in Lua, `%[fetch,lua.<name>]` in config. */
  registerConverter(name: string, fn: ConverterFn): void {
    this.#register('converter', name, () => this.#registry.addConverter(name, fn));
  }

  /** An action `lua.<name>` for the `http-req` and/or `http-res` lists, taking exactly `nbArgs` arguments. */
  registerAction(name: string, on: readonly ActionRuleset[], fn: ActionFn, nbArgs = 0): void {
    for (const r of on) if (r !== 'http-req' && r !== 'http-res') throw new BadArgumentError(`registerAction: unknown action list "${String(r)}" (http-req or http-res)`);
    this.#register('action', name, () => this.#registry.addAction(name, on, fn, nbArgs));
  }

  /** A service `lua.<name>`, a location's `service`: it produces the response. */
  registerService(name: string, fn: ServiceFn): void {
    this.#register('service', name, () => this.#registry.addService(name, fn));
  }

  /**
   * A background task: `fn(task, ...args)` starts after init and initWorker (at once if the engine
   * runs), and again in every generation after a reload; `task.sleep()` rejects when it is stopped.
   */
  registerTask(fn: TaskFn, ...args: unknown[]): void {
    if (typeof fn !== 'function') throw new BadArgumentError('registerTask: a function is expected');
    this.#tasks.push({ fn, args });
    this.#current?.tasks.add(fn, args);
  }

  #register(kind: RegistryKind, name: string, add: () => string): void {
    // A name the running generation's Lua code registered is taken too.
    if (this.#current?.registry.has(kind, luaName(name))) throw new BadArgumentError(`${kind} "${luaName(name)}" is already registered`);
    add();
  }

  async generation(ctx: ExtensionContext): Promise<ExtensionGeneration> {
    const hx = new HaproxyGeneration({
      parent: this.#registry,
      clock: ctx.clock,
      taskNgx: () => ctx.detached('timer'),
      log: (level, message, ngx, err) => ctx.log(level, message, ngx, err),
    });
    for (const t of this.#tasks) hx.tasks.add(t.fn, t.args);
    try {
      loadLua(ctx, hx);
    } catch (err) {
      await hx.tasks.stop();
      throw err;
    }
    return {
      compileLocation: (loc) => compileLocation(hx, loc),
      init: async () => {
        // HAProxy's init context: core.register_init functions, after the config's init handler.
        for (const fn of hx.inits) await ctx.runInit(fn);
      },
      start: () => {
        this.#current = hx;
        hx.tasks.start();
      },
      stop: async () => {
        if (this.#current === hx) this.#current = undefined;
        await hx.tasks.stop();
      },
    };
  }
}

/** A script runtime that offers the Lua binding API (the Lua runtime does). */
function luaBindingOf(runtimes: readonly ScriptRuntime[]): LuaBinding | undefined {
  for (const rt of runtimes) {
    const binding = (rt as { binding?: () => LuaBinding }).binding;
    if (typeof binding === 'function') return binding.call(rt);
  }
  return undefined;
}

/** Installs `core` into the Lua runtime (if any) and runs the luaLoad files, in order, in the body context. */
function loadLua(ctx: ExtensionContext, hx: HaproxyGeneration): void {
  const binding = luaBindingOf(ctx.runtimes);
  const files = (ctx.config.luaLoad as string[] | undefined) ?? [];
  if (binding === undefined) {
    if (files.length > 0) throw new NoRuntimeError('luaLoad', 'luaFile');
    return;
  }
  const lua = installHaproxy({ base: binding, host: hx.host, resume: binding.resume, run: binding.run });
  binding.onRequestDone((ngx: Ngx) => lua.requestDone(ngx));
  hx.loading = true;
  try {
    files.forEach((file, i) => {
      const chunk = binding.compileFile(file);
      try {
        lua.load(chunk, file);
      } catch (err) {
        // Syntax errors and unreadable files keep their own codes, as for handlers.
        if (err instanceof PhasekitError) throw err;
        throw new HandlerError('init', `luaLoad[${i}] "${file}"`, err);
      } finally {
        chunk.factory.release();
      }
    });
  } finally {
    hx.loading = false;
  }
}

/** Wraps a location's handlers with its actions, service, setHeaders and sample-expression vars. */
function compileLocation(hx: HaproxyGeneration, loc: LocationCompile): void {
  const config = loc.config as LocationKeys;
  const template = (text: string, path: string): CompiledTemplate => {
    try {
      return compileTemplate(text, hx.registry);
    } catch (err) {
      loc.issue(path, (err as Error).message);
      return () => undefined;
    }
  };
  // Variables from the first one with a sample expression on are computed per request, in order,
  // at the start of rewrite (as nginx's `set` lines): their fetches see the request.
  const entries = Object.entries(config.vars ?? {});
  const firstSample = entries.findIndex(([, v]) => hasSample(v));
  if (firstSample !== -1) {
    const sampled = entries.slice(firstSample).map(([name, text]) => {
      loc.vars.delete(name.toLowerCase());
      const t = template(text, `${loc.path}.vars.${name}`);
      // a sample that yields nothing leaves the variable without a value, as HAProxy's set-var
      return { var: name, args: [], fn: (ngx: Ngx) => t(hx.txn(ngx)), verbatim: true };
    });
    loc.set.unshift(...sampled);
  }
  const setHeaders = Object.entries(config.setHeaders ?? {}).map(([name, text]) => [name, template(text, `${loc.path}.setHeaders.${name}`)] as const);
  const rules = (list: ActionRuleset): CompiledRule[] =>
    (config.actions?.[list] ?? []).flatMap((ref, j) => {
      const path = `${loc.path}.actions.${list}[${j}]`;
      let call;
      try {
        call = parseCall(ref);
      } catch (err) {
        loc.issue(path, (err as Error).message);
        return [];
      }
      const entry = hx.registry.action(call.name);
      if (entry === undefined) loc.issue(path, `unknown action "${call.name}"`);
      else if (!entry.on.has(list)) loc.issue(path, `action "${call.name}" is not registered for ${list}`);
      else if (call.args.length !== entry.nbArgs) loc.issue(path, `action "${call.name}" expects ${entry.nbArgs} argument(s), got ${call.args.length}`);
      else return [{ name: entry.name, fn: entry.fn, args: call.args }];
      return [];
    });
  const httpReq = rules('http-req');
  const httpRes = rules('http-res');
  if (httpReq.length > 0) loc.access = httpReqHandler(hx, httpReq, loc.access);
  if (setHeaders.length > 0 || httpRes.length > 0) loc.headerFilter = httpResHandler(hx, setHeaders, httpRes, loc.headerFilter);
  if (config.service !== undefined) {
    const service = hx.registry.service(config.service);
    if (service === undefined) loc.issue(`${loc.path}.service`, `unknown service "${config.service}"`);
    else loc.content = serviceHandler(hx, service);
  }
}
