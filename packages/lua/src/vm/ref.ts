// Value types crossing the bridge: registry-anchored handles (LuaRef, LuaChunk) and unanchored placeholders.

/** What owns registry slots: the VM runtime. */
export interface RefOwner {
  readonly closed: boolean;
  unref(index: number): void;
  /** Backstop: unref `index` if `ref` is garbage-collected without release(). */
  track(ref: LuaRef, index: number): void;
  untrack(ref: LuaRef): void;
}

/**
 * A Lua value (table, function, ...) anchored in the registry of one VM, so JS can hold it across calls.
 * Stays anchored until `release()`, the VM closes, or (as a backstop) this JS object is garbage-collected.
 */
export class LuaRef {
  /** Registry index (`luaL_ref`). */
  readonly index: number;
  /** The same index as a bigint, as `lua_rawgeti` takes it. */
  readonly key: bigint;
  readonly type: LuaTypeName;
  #owner: RefOwner | null;

  constructor(owner: RefOwner, index: number, type: LuaTypeName) {
    this.#owner = owner;
    this.index = index;
    this.key = BigInt(index);
    this.type = type;
    owner.track(this, index);
  }

  get released(): boolean {
    return this.#owner === null;
  }

  /** True while this ref is alive and belongs to `owner`. */
  isOwnedBy(owner: RefOwner): boolean {
    return this.#owner === owner;
  }

  release(): void {
    const owner = this.#owner;
    if (owner === null) return;
    this.#owner = null;
    owner.untrack(this);
    if (!owner.closed) owner.unref(this.index);
  }
}

/** A compiled chunk: compile once, then `spawn` it any number of times, each run with its own `_ENV`. */
export class LuaChunk {
  readonly chunkName: string;
  /**
   * The compiled handler `function(_ENV, ...) <source> end`: each run calls it with its env first, then
   * the args (so it is not a plain function of the args; run it with spawn or call).
   */
  readonly factory: LuaRef;

  constructor(chunkName: string, factory: LuaRef) {
    this.chunkName = chunkName;
    this.factory = factory;
  }

  release(): void {
    this.factory.release();
  }
}

export type LuaTypeName = 'nil' | 'boolean' | 'lightuserdata' | 'number' | 'string' | 'table' | 'function' | 'userdata' | 'thread' | 'none';

/** A non-scalar Lua value seen by JS but not anchored (a result nobody asked to keep). */
export class LuaOpaque {
  readonly type: LuaTypeName;
  private constructor(type: LuaTypeName) {
    this.type = type;
  }
  static readonly table = new LuaOpaque('table');
  static readonly function = new LuaOpaque('function');
  static readonly userdata = new LuaOpaque('userdata');
  static readonly thread = new LuaOpaque('thread');
}

/**
 * Values that cross between JS and Lua.
 * - nil ↔ null (undefined is pushed as nil too)
 * - integers ↔ number when safe, bigint otherwise; floats ↔ number
 * - strings → string when valid UTF-8, else Uint8Array (exact bytes); string and Uint8Array → Lua string
 * - tables/functions/... → LuaRef when anchored on request, else LuaOpaque
 */
export type LuaValue = null | undefined | boolean | number | bigint | string | Uint8Array | LuaRef | LuaOpaque;

export const TYPE_NAMES: readonly LuaTypeName[] = ['nil', 'boolean', 'lightuserdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

export function typeName(t: number): LuaTypeName {
  return TYPE_NAMES[t] ?? 'none';
}
