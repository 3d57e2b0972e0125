// Configs a probe sent: every one is refused with PHASEKIT_ERR_CONFIG naming the path (never a
// raw TypeError, never silently accepted), in nginx's words where nginx has them (`nginx -t`).
import { describe, expect, it } from 'vitest';
import { createEngine } from 'phasekit';
import { ConfigError } from '@phasekit/core';

async function refusal(config: unknown): Promise<ConfigError> {
  const err: unknown = await createEngine(config as never, { logger: () => undefined }).then(
    async (engine) => {
      await engine.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).code).toBe('PHASEKIT_ERR_CONFIG');
  return err as ConfigError;
}

describe('hostile configs are refused with a coded error naming the path', () => {
  it.each([
    ['{}', {}, 'locations'],
    ['null', null, ''],
    ['[]', [], ''],
    ['a string', 'locations', ''],
    ['locations: null', { locations: null }, 'locations'],
    ['a location that is null', { locations: [null] }, 'locations[0]'],
  ])('%s at the root', async (_name, config, path) => {
    const err = await refusal(config);
    expect(err.issues.map((i) => i.path)).toContain(path);
  });

  it('a duplicate location, as nginx -t says it (exact with exact, prefix with prefix or ^~)', async () => {
    const exact = await refusal({ locations: [{ match: '= /x' }, { match: '/y' }, { match: '= /x' }] });
    expect(exact.issues).toEqual([{ path: 'locations[2].match', message: 'duplicate location "/x"' }]);
    const prefix = await refusal({ locations: [{ match: '/x' }, { match: '^~ /x' }] });
    expect(prefix.message).toBe('invalid config: locations[1].match: duplicate location "/x"');
  });

  it('the same path as exact and as prefix, or a regex twice, is allowed (as nginx allows it)', async () => {
    const engine = await createEngine({ locations: [{ match: '= /x' }, { match: '/x' }, { match: '~ ^/y' }, { match: '~ ^/y' }] }, { logger: () => undefined });
    await engine.close();
  });

  it('a dict of 1 byte is too small, as lua_shared_dict says it; 100g is too large', async () => {
    const small = await refusal({ sharedDicts: { a: '1' }, locations: [] });
    expect(small.issues).toEqual([{ path: 'sharedDicts.a', message: 'invalid lua shared dict size "1": the smallest is 8k (8192 bytes)' }]);
    const big = await refusal({ sharedDicts: { b: { size: '100g' } }, locations: [] });
    expect(big.issues).toEqual([{ path: 'sharedDicts.b.size', message: 'invalid lua shared dict size "100g": the largest is 4g (a dict\'s memory is allocated whole at start)' }]);
    const engine = await createEngine({ sharedDicts: { c: '8k' }, locations: [] }, { logger: () => undefined });
    await engine.close();
  });

  it('a dict (or any name) "__proto__" is refused, not silently dropped', async () => {
    const err = await refusal(JSON.parse('{"sharedDicts":{"__proto__":"1m","ok":"1m"},"locations":[{"match":"/","vars":{"__proto__":"x"}}]}'));
    expect(err.issues.map((i) => i.path)).toEqual(['sharedDicts.__proto__', 'locations[0].vars.__proto__']);
    expect(err.issues[0]?.message).toBe('"__proto__" cannot be a name (it is not kept as a key)');
  });
});
