// Issue 15, row 1: `ngx.re.match(ngx.var.arg_name, [[^(\w+\s?)*$]], "jo")` with 34 × "a" + "!"
// froze the whole server for minutes. Now the search stops at the match limit and answers as
// OpenResty does, and the server keeps serving.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createEngine, createHandler } from 'phasekit';

const HANDLER = String.raw`local m, err = ngx.re.match(ngx.var.arg_name, [[^(\w+\s?)*$]], "jo")
ngx.say(tostring(m and m[0]), " ", tostring(err))`;

describe('regex denial of service (issue 15, row 1)', () => {
  it('a catastrophic-backtracking input gets nil, "pcre_exec() failed: -8" and the server goes on serving', async () => {
    const engine = await createEngine({ locations: [{ match: '/', content: { lua: HANDLER } }] }, { logger: () => undefined });
    const server = createServer(createHandler(engine));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      const hostile = ['a'.repeat(34), 'a'.repeat(60)].map((a) => fetch(`${base}?name=${a}!`).then((r) => r.text()));
      const normal = fetch(`${base}?name=hello`).then((r) => r.text());
      expect(await Promise.all(hostile)).toEqual(Array(2).fill('nil pcre_exec() failed: -8\n'));
      expect(await normal).toBe('hello nil\n');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await engine.close();
    }
  });

  it('a polynomial search over a long subject (\\s+$ on 20,000 spaces) is bounded too', async () => {
    const engine = await createEngine(
      { lua: { regexMatchLimit: 100_000 }, locations: [{ match: '/', content: { lua: 'ngx.say(select("#", ngx.re.find(string.rep(" ", 20000) .. "x", [[\\s+$]])), " ", select(3, ngx.re.find(string.rep(" ", 20000) .. "x", [[\\s+$]])))' } }] },
      { logger: () => undefined },
    );
    const server = createServer(createHandler(engine));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(await res.text()).toBe('3 pcre_exec() failed: -8\n');
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await engine.close();
    }
  });
});
