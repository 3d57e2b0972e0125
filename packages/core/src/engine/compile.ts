// Compiling a config: handler specs into callables (through the script runtimes), locations into
// the location table (through the extensions' hooks), upstreams into peers.

import { ConfigError, NoRuntimeError, type ConfigIssue } from '../errors.js';
import { LocationTable, parseMatch, type ParsedMatch } from '../http/location.js';
import type { CompiledLocation } from '../request/state.js';
import { parseTemplate } from '../request/vars.js';
import { parseSize } from '../shared-dict/index.js';
import { compileProxy, compileUpstream, type CompiledUpstream } from '../upstream/upstreams.js';
import type { HandlerSpec, ParsedConfig, SetSpec } from './config.js';
import type { ExtensionGeneration, LocationCompile } from './extension.js';
import type { CompiledHandler, CompiledSetHandler, HandlerSite, ScriptRuntime, ScriptSpec } from './script-runtime.js';
import type { Phase } from '../phases/facts.js';

/** Compiles one handler spec: a function as it is, `{ lua }` / `{ luaFile }` by the runtime that takes it. */
export function compileHandler(spec: HandlerSpec, runtimes: readonly ScriptRuntime[], site: HandlerSite): CompiledHandler {
  if (typeof spec === 'function') return spec;
  if (spec.handler !== undefined) return spec.handler;
  const script = scriptOf(spec);
  return runtimeFor(runtimes, script, site).compile(script, site);
}

export function compileSetHandler(spec: SetSpec, runtimes: readonly ScriptRuntime[], site: HandlerSite): CompiledSetHandler {
  if (spec.handler !== undefined) return spec.handler;
  const script = scriptOf(spec);
  return runtimeFor(runtimes, script, site).compileSet(script, site);
}

type LocationConfig = ParsedConfig['locations'][number];
const HANDLER_KEYS = ['rewrite', 'access', 'content', 'headerFilter', 'bodyFilter', 'log'] as const;

/** Compiles every location; extensions see each one and may wrap its handlers. Throws ConfigError with every issue. */
/** The variables the config's locations declare (`vars` and `set` targets), lower-cased. */
export function declaredVariables(config: ParsedConfig): Set<string> {
  const names = new Set<string>();
  for (const loc of config.locations) {
    for (const name of Object.keys(loc.vars ?? {})) names.add(name.toLowerCase());
    for (const set of loc.set ?? []) names.add(set.var.toLowerCase());
  }
  return names;
}

export function compileLocations(config: ParsedConfig, runtimes: readonly ScriptRuntime[], extensions: readonly ExtensionGeneration[]): LocationTable<CompiledLocation> {
  const table = new LocationTable<CompiledLocation>();
  const engineType = config.defaultType ?? 'text/plain';
  const issues: ConfigIssue[] = [];
  config.locations.forEach((loc: LocationConfig, i) => {
    const match = parseMatch(loc.match) as ParsedMatch;
    const site = (phase: Phase, key: string): HandlerSite => ({ phase, location: loc.match, path: `locations[${i}].${key}` });
    const compiling: LocationCompile = {
      path: `locations[${i}]`,
      name: loc.match,
      config: loc,
      vars: new Map(Object.entries(loc.vars ?? {}).map(([k, v]) => [k.toLowerCase(), parseTemplate(v)] as const)),
      set: (loc.set ?? []).map((spec, j) => ({
        var: spec.var,
        args: (spec.args ?? []).map(parseTemplate),
        fn: compileSetHandler(spec, runtimes, { phase: 'set', location: loc.match, path: `locations[${i}].set[${j}]` }),
      })),
      rewrite: undefined,
      access: undefined,
      content: undefined,
      headerFilter: undefined,
      bodyFilter: undefined,
      log: undefined,
      issue: (path, message) => issues.push({ path, message }),
    };
    for (const key of HANDLER_KEYS) {
      const spec = loc[key];
      if (spec !== undefined) compiling[key] = compileHandler(spec, runtimes, site(key, key));
    }
    for (const ext of extensions) ext.compileLocation?.(compiling);
    table.add(match, {
      name: loc.match,
      match,
      internal: loc.internal ?? false,
      vars: compiling.vars,
      set: compiling.set,
      rewrite: compiling.rewrite,
      access: compiling.access,
      content: compiling.content,
      headerFilter: compiling.headerFilter,
      bodyFilter: compiling.bodyFilter,
      log: compiling.log,
      defaultType: loc.defaultType ?? engineType,
      bodyFilterBuffer: loc.bodyFilterBuffer === undefined ? undefined : { maxBytes: parseSize(loc.bodyFilterBuffer.maxBytes) },
      proxy: loc.proxyPass === undefined ? undefined : compileProxy(loc.proxyPass, loc.proxy),
      checkClientAbort: loc.checkClientAbort ?? config.checkClientAbort ?? false,
    });
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return table;
}

/** Compiles the config's upstreams (their balancer handlers too). */
export function compileUpstreams(config: ParsedConfig, runtimes: readonly ScriptRuntime[]): Map<string, CompiledUpstream> {
  const upstreams = new Map<string, CompiledUpstream>();
  for (const [name, u] of Object.entries(config.upstreams ?? {})) {
    const balancer = u.balancer === undefined ? undefined : compileHandler(u.balancer, runtimes, { phase: 'balancer', location: `upstream ${name}`, path: `upstreams.${name}.balancer` });
    try {
      upstreams.set(name, compileUpstream(name, u, balancer));
    } catch (err) {
      throw new ConfigError([{ path: `upstreams.${name}.servers`, message: (err as Error).message }], { cause: err });
    }
  }
  return upstreams;
}

function runtimeFor(runtimes: readonly ScriptRuntime[], script: ScriptSpec, site: HandlerSite): ScriptRuntime {
  const rt = runtimes.find((r) => r.kinds.includes(script.kind));
  if (rt === undefined) throw new NoRuntimeError(site.path, script.kind);
  return rt;
}

function scriptOf(spec: { lua?: string | undefined; luaFile?: string | undefined }): ScriptSpec {
  return spec.lua !== undefined ? { kind: 'lua', source: spec.lua } : { kind: 'luaFile', source: spec.luaFile as string };
}
