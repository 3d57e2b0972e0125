// One Redis connection (ioredis) per server URL for an engine's Redis-backed dicts: commands time
// out instead of hanging, fail at once while the server is known to be down, and work again as
// soon as ioredis has reconnected.

import type { Redis as RedisClient } from 'ioredis';
import { PhasekitError } from '../../errors.js';
import { EXPIRE, INCR, LLEN, POP, PUSH, STORE, SWEEP } from './scripts.js';

/** The scripts every connection defines (ioredis runs them with EVALSHA, loading them when Redis has forgotten them). */
const SCRIPTS = { pkStore: STORE, pkIncr: INCR, pkPush: PUSH, pkPop: POP, pkLlen: LLEN, pkExpire: EXPIRE, pkSweep: SWEEP } as const;
type ScriptName = keyof typeof SCRIPTS;

/** A Redis command that failed: a lost connection, a timeout, or Redis refusing it (OOM). */
export class RedisCallError extends Error {
  readonly oom: boolean;
  constructor(message: string, oom: boolean) {
    super(message);
    this.name = 'RedisCallError';
    this.oom = oom;
  }
}

export interface RedisConnectionOptions {
  /** Milliseconds a command may take, queued while (re)connecting included. */
  timeout: number;
  /** Where connection state changes go (lost, back). */
  log: (level: 'error' | 'warn', message: string) => void;
}

export class RedisConnection {
  readonly url: string;
  readonly #options: RedisConnectionOptions;
  #client: Promise<RedisClient> | undefined;
  /** Why the server is unreachable, while it is (calls fail at once with it). */
  #down: string | undefined;
  /** The last connection error, to name when ioredis gives up on a command without one. */
  #lastError: string | undefined;
  #closed = false;

  constructor(url: string, options: RedisConnectionOptions) {
    this.url = url;
    this.#options = options;
  }

  /** Runs one of the scripts; replies are Buffers (binary values survive). */
  async script(name: ScriptName, keys: readonly (string | Buffer)[], args: readonly (string | Buffer | number)[]): Promise<unknown> {
    const client = await this.#ready();
    const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[`${name}Buffer`] as (...a: unknown[]) => Promise<unknown>;
    return this.#guard(fn.call(client, keys.length, ...keys, ...args));
  }

  /** Any other command, e.g. `call('hmgetBuffer', key, 't', 'v')`. */
  async call(command: string, ...args: (string | Buffer | number)[]): Promise<unknown> {
    const client = await this.#ready();
    const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[command] as (...a: unknown[]) => Promise<unknown>;
    return this.#guard(fn.apply(client, args));
  }

  async close(): Promise<void> {
    this.#closed = true;
    const client = await this.#client?.catch(() => undefined);
    if (client === undefined) return;
    // QUIT waits for replies in flight; a server that is gone gets a plain disconnect.
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }

  async #ready(): Promise<RedisClient> {
    if (this.#closed) throw new RedisCallError('redis: the engine is closed', false);
    if (this.#down !== undefined) throw new RedisCallError(this.#down, false);
    this.#client ??= this.#connect();
    return this.#client;
  }

  async #guard(p: Promise<unknown>): Promise<unknown> {
    try {
      return await p;
    } catch (err) {
      let message = (err as Error).message;
      if ((err as Error).name === 'MaxRetriesPerRequestError') message = this.#lastError ?? 'connection failed';
      throw new RedisCallError(`redis: ${message}`, message.startsWith('OOM'));
    }
  }

  async #connect(): Promise<RedisClient> {
    // Loaded on first use: engines without a Redis dict never load the client.
    const { Redis } = await import('ioredis');
    const log = this.#options.log;
    const client = new Redis(this.url, {
      commandTimeout: this.#options.timeout,
      connectTimeout: this.#options.timeout,
      // A command is sent once: after a reconnect, an incr that may have run is not run again.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      // Reconnect at once, then every 100 ms .. 1 s while the server stays away.
      retryStrategy: (times) => Math.min(times * 100, 1000),
      lazyConnect: false,
    });
    for (const [name, lua] of Object.entries(SCRIPTS)) client.defineCommand(name, { lua });
    let lost = false;
    client.on('error', (err: Error) => {
      this.#down = `redis: ${err.message}`;
      this.#lastError = err.message;
      if (!lost) log('error', `shared dict store ${redact(this.url)}: ${err.message}; calls fail until it is back`);
      lost = true;
    });
    client.on('close', () => {
      this.#down ??= 'redis: connection closed';
    });
    client.on('ready', () => {
      this.#down = undefined;
      if (lost) log('warn', `shared dict store ${redact(this.url)}: connected again`);
      lost = false;
    });
    return client;
  }
}

/** A URL without its password, for logs. */
function redact(url: string): string {
  return url.replace(/\/\/([^@/]*)@/, '//***@');
}

/** The Redis URL schemes a dict's `store` may name. */
export function checkStoreUrl(name: string, store: string): string {
  if (!/^rediss?:\/\//.test(store)) {
    throw new PhasekitError('PHASEKIT_ERR_CONFIG', `shared dict "${name}": store "${store}" is not supported (expected a redis:// or rediss:// URL)`);
  }
  return store;
}
