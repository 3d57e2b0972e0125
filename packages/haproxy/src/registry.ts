// The `lua.*` namespace: fetches, converters, actions and services, layered built-ins ← TypeScript ← Lua.

import { BadArgumentError } from '@phasekit/core';
import type { ActionFn, ActionRuleset, ConverterFn, FetchFn, ServiceFn } from './types.js';

export interface FetchEntry {
  readonly name: string;
  readonly fn: FetchFn;
  readonly minArgs: number;
  readonly maxArgs: number;
}

export interface ConverterEntry {
  readonly name: string;
  readonly fn: ConverterFn;
  readonly minArgs: number;
  readonly maxArgs: number;
}

export interface ActionEntry {
  readonly name: string;
  readonly fn: ActionFn;
  readonly on: ReadonlySet<ActionRuleset>;
  readonly nbArgs: number;
}

export interface ServiceEntry {
  readonly name: string;
  readonly fn: ServiceFn;
}

export type RegistryKind = 'fetch' | 'converter' | 'action' | 'service';

/** HAProxy passes registered fetches and converters up to 9 string arguments. */
const MAX_ARGS = 9;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** `geo` → `lua.geo` (a leading `lua.` is accepted); refuses names HAProxy's config could not spell. */
export function luaName(name: string): string {
  if (typeof name !== 'string') throw new BadArgumentError('a registered name is a string');
  const bare = name.startsWith('lua.') ? name.slice(4) : name;
  if (!NAME.test(bare)) throw new BadArgumentError(`bad name "${name}": letters, digits, "_", "." and "-"`);
  return `lua.${bare}`;
}

/** How Lua spells a fetch or converter as a method: `req.hdr` → `req_hdr` (HAProxy's Fetches class does the same). */
export function methodName(name: string): string {
  return name.replace(/[.+-]/g, '_');
}

/** One layer of the namespace; lookups fall through to the parent. */
export class HaproxyRegistry {
  readonly #parent: HaproxyRegistry | undefined;
  readonly #fetches = new Map<string, FetchEntry>();
  readonly #converters = new Map<string, ConverterEntry>();
  readonly #actions = new Map<string, ActionEntry>();
  readonly #services = new Map<string, ServiceEntry>();
  readonly #fetchMethods = new Map<string, FetchEntry>();
  readonly #converterMethods = new Map<string, ConverterEntry>();

  constructor(parent?: HaproxyRegistry) {
    this.#parent = parent;
  }

  fetch(name: string): FetchEntry | undefined {
    return this.#fetches.get(name) ?? this.#parent?.fetch(name);
  }

  converter(name: string): ConverterEntry | undefined {
    return this.#converters.get(name) ?? this.#parent?.converter(name);
  }

  action(name: string): ActionEntry | undefined {
    return this.#actions.get(name) ?? this.#parent?.action(name);
  }

  service(name: string): ServiceEntry | undefined {
    return this.#services.get(name) ?? this.#parent?.service(name);
  }

  /** A fetch by its Lua method name (`req_hdr`, `lua_geo`). */
  fetchMethod(method: string): FetchEntry | undefined {
    return this.#fetchMethods.get(method) ?? this.#parent?.fetchMethod(method);
  }

  converterMethod(method: string): ConverterEntry | undefined {
    return this.#converterMethods.get(method) ?? this.#parent?.converterMethod(method);
  }

  has(kind: RegistryKind, name: string): boolean {
    switch (kind) {
      case 'fetch':
        return this.fetch(name) !== undefined;
      case 'converter':
        return this.converter(name) !== undefined;
      case 'action':
        return this.action(name) !== undefined;
      case 'service':
        return this.service(name) !== undefined;
    }
  }

  /** Adds a built-in fetch (no `lua.` prefix). */
  addBuiltinFetch(name: string, fn: FetchFn, minArgs: number, maxArgs: number): void {
    const entry = { name, fn, minArgs, maxArgs };
    this.#fetches.set(name, entry);
    this.#fetchMethods.set(methodName(name), entry);
  }

  addBuiltinConverter(name: string, fn: ConverterFn, minArgs: number, maxArgs: number): void {
    const entry = { name, fn, minArgs, maxArgs };
    this.#converters.set(name, entry);
    this.#converterMethods.set(methodName(name), entry);
  }

  addFetch(name: string, fn: FetchFn): string {
    const full = this.#free('fetch', name, fn);
    const entry = { name: full, fn, minArgs: 0, maxArgs: MAX_ARGS };
    this.#fetches.set(full, entry);
    this.#fetchMethods.set(methodName(full), entry);
    return full;
  }

  addConverter(name: string, fn: ConverterFn): string {
    const full = this.#free('converter', name, fn);
    const entry = { name: full, fn, minArgs: 0, maxArgs: MAX_ARGS };
    this.#converters.set(full, entry);
    this.#converterMethods.set(methodName(full), entry);
    return full;
  }

  addAction(name: string, on: readonly ActionRuleset[], fn: ActionFn, nbArgs = 0): string {
    const full = this.#free('action', name, fn);
    if (!Number.isInteger(nbArgs) || nbArgs < 0 || nbArgs > MAX_ARGS) throw new BadArgumentError(`bad nb_args ${String(nbArgs)} for action "${full}": 0..${MAX_ARGS}`);
    this.#actions.set(full, { name: full, fn, on: new Set(on), nbArgs });
    return full;
  }

  addService(name: string, fn: ServiceFn): string {
    const full = this.#free('service', name, fn);
    this.#services.set(full, { name: full, fn });
    return full;
  }

  #free(kind: RegistryKind, name: string, fn: unknown): string {
    const full = luaName(name);
    if (typeof fn !== 'function') throw new BadArgumentError(`the ${kind} "${full}" needs a function`);
    if (this.has(kind, full)) throw new BadArgumentError(`${kind} "${full}" is already registered`);
    return full;
  }
}
