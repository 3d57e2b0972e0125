// ngx.shared.DICT from Lua: OpenResty's multiple returns and errors over the engine's SharedDict.
import { describe, expect, it } from 'vitest';
import { SharedDict } from 'phasekit';
import { runContent } from './helpers.js';

async function lua(code: string, dicts: Record<string, string> = { dogs: '1m' }) {
  const { res, logs } = await runContent(code, '/', { sharedDicts: dicts });
  return { body: res.body, status: res.status, logs };
}

describe('ngx.shared.DICT in Lua', () => {
  it('set/get with flags; integers print as integers; get of a missing key is nil', async () => {
    const { body } = await lua(`
      local d = ngx.shared.dogs
      ngx.say(d:set("Tom", 10534))
      ngx.say(d:set("Jim", 8, 0, 7))
      ngx.say(d:get("Tom"))
      ngx.say(d:get("Jim"))
      ngx.say(select("#", d:get("Tom")), " ", tostring(d:get("nope")))`);
    expect(body).toBe('truenilfalse\ntruenilfalse\n10534\n87\n1 nil\n');
  });

  it('add / replace / safe_add results, incr with init, delete', async () => {
    const { body } = await lua(`
      local d = ngx.shared.dogs
      d:set("a", 1)
      ngx.say(d:add("a", 2))
      ngx.say(d:replace("zz", 2))
      ngx.say(d:safe_add("b", "x"))
      ngx.say(d:incr("n", 5, 10))
      ngx.say(d:incr("missing", 1))
      ngx.say(d:incr("b", 1))
      d:delete("a")
      ngx.say(tostring(d:get("a")))`);
    expect(body).toBe('falseexistsfalse\nfalsenot foundfalse\ntruenilfalse\n15nilfalse\nnilnot found\nnilnot a number\nnil\n');
  });

  it('lists, ttl/expire, get_keys, capacity and free_space', async () => {
    const { body } = await lua(`
      local d = ngx.shared.dogs
      ngx.say(d:lpush("l", "a"), d:rpush("l", "b"), d:llen("l"))
      ngx.say(d:lpop("l"), d:rpop("l"), tostring(d:lpop("l")))
      d:set("s", "v")
      ngx.say(d:lpush("s", 1))
      d:set("t", 1, 100)
      local ttl = d:ttl("t")
      ngx.say(ttl > 99 and ttl <= 100)
      ngx.say(d:expire("t", 0), d:ttl("t"))
      local keys = d:get_keys(0)
      table.sort(keys)
      ngx.say(table.concat(keys, ","))
      ngx.say(d:capacity(), " ", d:free_space() < d:capacity())`);
    expect(body).toBe('122\nabnil\nnilvalue not a list\ntrue\ntrue0\ns,t\n1048576 true\n');
  });

  it('bad keys and values return errors; calling without the colon raises "bad zone argument"', async () => {
    const { body } = await lua(`
      local d = ngx.shared.dogs
      ngx.say(d:set(nil, 1))
      ngx.say(d:set("", 1))
      ngx.say(d:set("f", print))
      ngx.say(pcall(d.get, "x"))`);
    expect(body).toBe('nilnil key\nnilempty key\nnilbad value type\nfalsebad "zone" argument\n');
  });

  it('writes from Lua are visible to TypeScript and back (one dict object)', async () => {
    const dogs = new SharedDict('dogs', '1m');
    dogs.set('fromTs', 'ts');
    const { createEngine, inject } = await import('phasekit');
    const engine = await createEngine(
      { sharedDicts: { dogs: '1m' }, locations: [{ match: '/', content: { lua: 'ngx.shared.dogs:set("fromLua", 1.5) ngx.say(ngx.shared.dogs:get("fromTs"))' } }] },
      { sharedDicts: { dogs }, logger: () => undefined },
    );
    expect((await inject(engine, '/')).body).toBe('ts\n');
    expect(dogs.get('fromLua')).toBe(1.5);
    await engine.close();
  });
});
