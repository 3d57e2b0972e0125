import { describe, expect, it } from 'vitest';
import { createEngine, inject } from 'phasekit';

describe('lua smoke', () => {
  it('runs content', async () => {
    const logs: string[] = [];
    const engine = await createEngine({
      sharedDicts: { dogs: '1m' },
      init: { lua: "ngx.shared.dogs:set('Tom', 10534)" },
      locations: [{
        match: '/',
        rewrite: { lua: 'ngx.ctx.a = "ctx"' },
        access: { lua: 'if ngx.var.arg_deny then return ngx.exit(403) end' },
        content: { lua: 'ngx.say("hello ", ngx.var.uri, " ", ngx.ctx.a, " ", ngx.shared.dogs:get("Tom"), " ", 1.5, " ", {"x", {"y"}})' },
        headerFilter: { lua: 'ngx.header["X-Lua"] = "yes"' },
        bodyFilter: { lua: 'ngx.arg[1] = string.upper(ngx.arg[1])' },
        log: { lua: 'ngx.shared.dogs:incr("hits", 1, 0)' },
      }],
    }, { logger: (e) => logs.push(e.message) });
    const res = await inject(engine, '/x');
    expect(res.body).toBe('HELLO /X CTX 10534 1.5 XY\n');
    expect(res.headers['x-lua']).toBe('yes');
    expect((await inject(engine, '/x?deny=1')).status).toBe(403);
    expect(logs).toEqual([]);
    await engine.close();
  });
});
