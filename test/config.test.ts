// The declarative config: zod validation, errors naming the path, runtimes for script handlers.
import { describe, expect, it } from 'vitest';
import { ConfigError, createEngine, parseConfig, type EngineConfig } from '@phasekit/core';

function issues(config: unknown): string[] {
  try {
    parseConfig(config);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('PHASEKIT_ERR_CONFIG');
    return (err as ConfigError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('config validation', () => {
  it('accepts the documented shape', () => {
    const config: EngineConfig = {
      sharedDicts: { dogs: '1m' },
      lua: { packagePath: './lua/?.lua', codeCache: true },
      init: { lua: "ngx.shared.dogs:set('Tom', 56)" },
      locations: [
        { match: '= /api', internal: false, vars: { a: '12' }, set: [{ var: 'res', lua: 'return 1', args: ['$arg_a'] }], content: { lua: 'ngx.say(1)' } },
        { match: '/ts', content: (ngx) => ngx.say('x') },
        { match: '/h', content: { handler: (ngx) => ngx.say('x') } },
      ],
    };
    expect(issues(config)).toEqual([]);
  });

  it('names the path of a bad location match', () => {
    const found = issues({ locations: [{ match: '/' }, { match: '/b' }, { match: 'nope' }] });
    expect(found).toEqual(['locations[2].match: a location must start with "/", "=", "^~", "~", "~*" or "@"']);
  });

  it('rejects unknown keys at every level', () => {
    expect(issues({ locations: [], bogus: 1 })[0]).toMatch(/^: Unrecognized key: "bogus"/);
    expect(issues({ locations: [{ match: '/', contnet: {} }] })[0]).toMatch(/^locations\[0\]: Unrecognized key: "contnet"/);
  });

  it('a handler spec gives exactly one source', () => {
    expect(issues({ locations: [{ match: '/', content: { lua: 'x', luaFile: 'y' } }] })).toEqual([
      'locations[0].content: give exactly one of "lua", "luaFile" or "handler"',
    ]);
    expect(issues({ locations: [{ match: '/', access: 42 }] })[0]).toMatch(/^locations\[0\]\.access: /);
  });

  it('checks sizes, var names and regexes', () => {
    expect(issues({ sharedDicts: { d: '1x' }, locations: [] })[0]).toMatch(/^sharedDicts\.d: a size is bytes/);
    expect(issues({ locations: [{ match: '/', vars: { 'bad-name': '1' } }] })[0]).toMatch(/^locations\[0\]\.vars\.bad-name: /);
    expect(issues({ locations: [{ match: '~ (' }] })[0]).toMatch(/^locations\[0\]\.match: bad regex/);
  });

  it('createEngine rejects a bad config before starting anything', async () => {
    await expect(createEngine({ locations: [{ match: 'x' }] })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG' });
  });

  it('a script handler without a runtime fails with PHASEKIT_ERR_NO_RUNTIME naming the path', async () => {
    await expect(createEngine({ locations: [{ match: '/', content: { lua: 'ngx.say(1)' } }] })).rejects.toMatchObject({
      code: 'PHASEKIT_ERR_NO_RUNTIME',
      message: expect.stringContaining('locations[0].content'),
    });
  });
});
