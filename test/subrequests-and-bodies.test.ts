// ngx.location.capture / captureMulti and request bodies (read, discard, replace, temp files, 413).
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine, inject, type EngineConfig, type LogEntry } from 'phasekit';

async function engineWith(config: EngineConfig) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { logger: (e) => logs.push(e) });
  return { engine, logs };
}

describe('ngx.location.capture', () => {
  it('runs a subrequest through the locations (internal ones too) and returns status, headers, body', async () => {
    const { engine } = await engineWith({
      locations: [
        {
          match: '= /main',
          content: async (ngx) => {
            const res = await ngx.location.capture('/sub/x', { args: { q: 'a b' } });
            ngx.say(res.status, ' ', String(res.header['X-Sub']), ' ', res.body.trim(), ' ', String(res.truncated), ' ', String(ngx.isSubrequest));
          },
        },
        {
          match: '/sub/',
          internal: true,
          content: (ngx) => { ngx.status = 201; ngx.header['X-Sub'] = 'yes'; ngx.say(ngx.var.uri, '?', ngx.var.args, ' ', String(ngx.isSubrequest)); },
        },
      ],
    });
    expect((await inject(engine, '/main')).body).toBe('201 yes /sub/x?q=a%20b true false false\n');
    await engine.close();
  });

  it('skips the access and log phases, shares ctx when given, and sends POST bodies', async () => {
    const seen: string[] = [];
    const { engine } = await engineWith({
      locations: [
        {
          match: '= /main',
          content: async (ngx) => {
            const shared = { from: 'parent' } as Record<string, unknown>;
            const res = await ngx.location.capture('/echo', { method: ngx.HTTP_POST, body: 'payload', ctx: shared });
            ngx.say(res.body, ' ', String(shared.child));
          },
        },
        {
          match: '= /echo',
          access: () => void seen.push('access'),
          content: async (ngx) => { await ngx.req.readBody(); ngx.ctx.child = `saw ${String(ngx.ctx.from)}`; ngx.print(ngx.req.getMethod(), ':', String(ngx.req.getBodyData())); },
          log: () => void seen.push('log'),
        },
      ],
    });
    expect((await inject(engine, '/main')).body).toBe('POST:payload saw parent\n');
    expect(seen).toEqual([]);
    await engine.close();
  });

  it('captureMulti runs subrequests concurrently, results in order', async () => {
    const { engine } = await engineWith({
      locations: [
        {
          match: '= /main',
          content: async (ngx) => {
            const all = await ngx.location.captureMulti([['/slow'], ['/fast'], ['/missing']]);
            ngx.say(all.map((r) => `${r.status}:${r.body.trim()}`).join(','));
          },
        },
        { match: '= /slow', content: async (ngx) => { await new Promise((r) => setTimeout(r, 20)); ngx.say('slow'); } },
        { match: '= /fast', content: (ngx) => ngx.say('fast') },
      ],
    });
    expect((await inject(engine, '/main')).body).toBe('200:slow,200:fast,404:\n');
    await engine.close();
  });

  it('stops a subrequest cycle with a clear error', async () => {
    const { engine, logs } = await engineWith({
      locations: [{ match: '= /loop', content: async (ngx) => { const r = await ngx.location.capture('/loop'); ngx.print(r.body); } }],
    });
    // The innermost capture fails (500); each level above prints what it got.
    expect((await inject(engine, '/loop')).body).toContain('500 Internal Server Error');
    expect(logs.map((l) => l.message).join('\n')).toContain('subrequests cycle while processing "/loop"');
    await engine.close();
  });
});

describe('request bodies', () => {
  it('413 over clientMaxBodySize; bodies over clientBodyBufferSize go to a temp file, removed afterwards', async () => {
    let file: string | undefined;
    const { engine } = await engineWith({
      clientMaxBodySize: '64k',
      clientBodyBufferSize: '1k',
      locations: [{
        match: '/',
        content: async (ngx) => {
          await ngx.req.readBody();
          file = ngx.req.getBodyFile();
          ngx.say(String(ngx.req.getBodyData()), ' ', String(file !== undefined && existsSync(file)));
        },
      }],
    });
    expect((await inject(engine, { method: 'POST', url: '/', body: 'x'.repeat(2048) })).body).toBe('undefined true\n');
    await new Promise((r) => setTimeout(r, 20));
    expect(existsSync(file as string)).toBe(false);
    expect((await inject(engine, { method: 'POST', url: '/', body: 'small' })).body).toBe('small false\n');
    expect((await inject(engine, { method: 'POST', url: '/', body: 'x'.repeat(70_000) })).status).toBe(413);
    await engine.close();
  });

  it('discardBody, setBodyData, initBody/appendBody/finishBody', async () => {
    const { engine } = await engineWith({
      locations: [{
        match: '/',
        content: async (ngx) => {
          await ngx.req.readBody();
          const original = ngx.req.getBodyData();
          ngx.req.setBodyData('replaced');
          const replaced = ngx.req.getBodyData();
          ngx.req.initBody();
          ngx.req.appendBody('a');
          ngx.req.appendBody(new Uint8Array([98]));
          ngx.req.finishBody();
          const built = ngx.req.getBodyData();
          ngx.req.discardBody();
          ngx.say(String(original), ' ', String(replaced), ' ', String(built), ' ', String(ngx.req.getBodyData()));
        },
      }],
    });
    expect((await inject(engine, { method: 'POST', url: '/', body: 'orig' })).body).toBe('orig replaced ab undefined\n');
    await engine.close();
  });
});

describe('variables across locations, exec and subrequests (nginx model)', () => {
  it('a variable declared in one location exists in every location and keeps its value across exec', async () => {
    const { engine, logs } = await engineWith({
      errorLogLevel: 'warn',
      locations: [
        { match: '/a', vars: { x: 'from a' }, content: (ngx) => ngx.exec('/b') },
        { match: '/b', content: (ngx) => ngx.say(`[${String(ngx.var.x)}] [${String(ngx.var.only_c)}]`) },
        { match: '/c', vars: { only_c: 'c' }, content: (ngx) => ngx.say('c') },
      ],
    });
    expect((await inject(engine, '/a')).body).toBe('[from a] []\n');
    expect(logs.map((e) => e.message)).toContain('using uninitialized "only_c" variable');
  });

  it('capture vars are set before the child location runs its own vars; undeclared names fail', async () => {
    const { engine, logs } = await engineWith({
      locations: [
        { match: '= /', vars: { dog: 'parent' }, content: async (ngx) => {
          const child = await ngx.location.capture('/sub', { vars: { dog: 'hello' }, copy_all_vars: true });
          const bad = await ngx.location.capture('/sub', { vars: { nobody: 'x' } }).then(() => 'ok', (e: Error) => e.message);
          ngx.print(child.body, bad);
        } },
        { match: '/sub', vars: { cat: '$dog world' }, content: (ngx) => ngx.say(`${String(ngx.var.cat)} | ${String(ngx.var.dog)}`) },
      ],
    });
    const res = await inject(engine, '/');
    expect(logs.filter((e) => e.level === 'error')).toEqual([]);
    expect(res.body).toBe('hello world | hello\nfailed to adjust the subrequest: -1');
  });
});

describe('what a capture answers (nginx model)', () => {
  it('exit(status) comes back without a page; exit(ERROR) after output keeps it; "@named" is a 404', async () => {
    const { engine } = await engineWith({
      locations: [
        { match: '= /', content: async (ngx) => {
          const [denied, partial, named] = await ngx.location.captureMulti([['/denied'], ['/partial'], ['@named']]);
          ngx.say(`${denied?.status} [${denied?.body}] ${partial?.status} [${partial?.body}] ${named?.status}`);
        } },
        { match: '/denied', content: (ngx) => ngx.exit(403) },
        { match: '/partial', content: (ngx) => { ngx.say('partial'); ngx.exit(ngx.ERROR); } },
        { match: '@named', content: (ngx) => ngx.say('named') },
      ],
    });
    expect((await inject(engine, '/')).body).toBe('403 [] 200 [partial\n] 404\n');
  });

  it('headers as the child left them: "Content-Type" by name, no Content-Length of phasekit\'s own', async () => {
    const { engine } = await engineWith({
      locations: [
        { match: '= /', content: async (ngx) => ngx.say(JSON.stringify((await ngx.location.capture('/sub')).header)) },
        { match: '/sub', content: (ngx) => { ngx.header['content-type'] = 'text/x-child'; ngx.header['X-Child'] = 'c'; ngx.say('body'); } },
      ],
    });
    expect(JSON.parse((await inject(engine, '/')).body)).toEqual({ 'Content-Type': 'text/x-child', 'X-Child': 'c' });
  });

  it('a body of its own comes with its Content-Length request header', async () => {
    const { engine } = await engineWith({
      locations: [
        { match: '= /', content: async (ngx) => ngx.print((await ngx.location.capture('/sub', { method: ngx.HTTP_POST, body: 'sub body' })).body) },
        { match: '/sub', content: async (ngx) => { await ngx.req.readBody(); ngx.say(`${ngx.req.getBodyData()} ${ngx.var.http_content_length}`); } },
      ],
    });
    expect((await inject(engine, '/')).body).toBe('sub body 8\n');
  });
});
