// The config's sharedDicts made into stores: shared memory for a size, Redis for `{ store }`.

import type { Clock } from '../clock.js';
import type { SharedDictConfig } from '../engine/config.js';
import { ConfigError } from '../errors.js';
import { RedisConnection } from './redis/connection.js';
import { RedisSharedDict } from './redis/redis-dict.js';
import { SharedDict } from './shared-dict.js';
import { parseSize } from './size.js';
import type { AnySharedDict } from './store.js';

export interface CreatedDicts {
  readonly dicts: Record<string, AnySharedDict>;
  /** Closes the Redis connections (shared-memory dicts need nothing). */
  close(): Promise<void>;
}

/** Builds the dicts `specs` names that `given` does not already have (given ones are used as they are). */
export function createSharedDicts(
  specs: Readonly<Record<string, string | number | SharedDictConfig>>,
  given: Readonly<Record<string, AnySharedDict>>,
  clock: Clock,
  log: (level: 'error' | 'warn', message: string) => void,
): CreatedDicts {
  // No prototype: a dict named `constructor` or `toString` is found, an undeclared one is not.
  const dicts = Object.assign(Object.create(null) as Record<string, AnySharedDict>, given);
  const connections = new Map<string, RedisConnection>();
  for (const [name, spec] of Object.entries(specs)) {
    if (dicts[name] !== undefined) continue;
    if (typeof spec !== 'object' || spec.store === undefined) {
      dicts[name] = allocate(name, typeof spec === 'object' ? spec.size : spec, clock);
    } else {
      const timeout = Math.round((spec.timeout ?? 1) * 1000);
      const key = `${spec.store}#${timeout}`;
      let conn = connections.get(key);
      if (conn === undefined) connections.set(key, (conn = new RedisConnection(spec.store, { timeout, log })));
      dicts[name] = new RedisSharedDict(name, conn, {
        capacity: parseSize(spec.size),
        clock,
        ...(spec.prefix === undefined ? {} : { prefix: spec.prefix }),
        staleGraceMs: Math.round((spec.staleGrace ?? 60) * 1000),
      });
    }
  }
  return {
    dicts,
    close: async () => {
      await Promise.all([...connections.values()].map((c) => c.close()));
    },
  };
}

/** A dict's memory is taken whole now: a size the process cannot get is a config error naming the dict. */
function allocate(name: string, size: string | number, clock: Clock): SharedDict {
  try {
    return new SharedDict(name, size, { clock });
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new ConfigError([{ path: `sharedDicts.${name}`, message: `cannot allocate ${String(size)} for shared dict "${name}": ${err.message}` }], { cause: err });
  }
}
