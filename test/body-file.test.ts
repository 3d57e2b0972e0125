// ngx.req.get_body_file(): a body over clientBodyBufferSize is in a temp file (as nginx's
// client_body_buffer_size), which holds the body and is removed when the request ends.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createEngine, inject } from 'phasekit';

describe('get_body_file', () => {
  it('Lua and TypeScript: the path of a temp file holding a body over clientBodyBufferSize, gone after the request', async () => {
    const seen: { path: string | undefined; content: string; data: string | undefined }[] = [];
    const engine = await createEngine({
      clientBodyBufferSize: '1k',
      locations: [
        { match: '= /lua', content: { lua: 'ngx.req.read_body()\nngx.say(type(ngx.req.get_body_file()), " ", tostring(ngx.req.get_body_data()))' } },
        {
          match: '= /ts',
          content: async (ngx) => {
            await ngx.req.readBody();
            const path = ngx.req.getBodyFile();
            seen.push({ path, content: path === undefined ? '' : readFileSync(path, 'utf8'), data: ngx.req.getBodyData() });
          },
        },
      ],
    }, { logger: () => undefined });
    const big = 'x'.repeat(3000);
    expect((await inject(engine, { url: '/lua', method: 'POST', body: big })).body).toBe('string nil\n');
    expect((await inject(engine, { url: '/lua', method: 'POST', body: 'small' })).body).toBe('nil small\n');
    await inject(engine, { url: '/ts', method: 'POST', body: big });
    expect(seen[0]?.content).toBe(big);
    expect(seen[0]?.data).toBeUndefined();
    // Removed as the request closes (after the response went out).
    for (let i = 0; i < 50 && existsSync(seen[0]?.path as string); i++) await new Promise((r) => setTimeout(r, 10));
    expect(existsSync(seen[0]?.path as string)).toBe(false);
    await engine.close();
  });
});
