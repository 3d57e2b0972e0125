// The packages as a user gets them: packed (publishConfig applied), installed into a scratch project,
// type-checked under strict TypeScript from their compiled .d.ts, and imported by Node.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PACKAGES = ['core', 'lua', 'haproxy', 'nginx', 'plugins', 'node-http', 'testing', 'fastify', 'express', 'phasekit'];
const PNPM = ['--yes', 'pnpm@9.15.9'];
const scratch = mkdtempSync(join(tmpdir(), 'phasekit-pack-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (cmd: string, args: string[], cwd: string) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } });

describe('packed packages', () => {
  it('install into a fresh project, type-check strictly from their .d.ts, and import', { timeout: 240_000 }, () => {
    run(join(root, 'node_modules/.bin/tsc'), ['-b', 'tsconfig.build.json'], root);
    const tarballs = join(scratch, 'tarballs');
    for (const pkg of PACKAGES) run('npx', [...PNPM, 'pack', '--pack-destination', tarballs], join(root, 'packages', pkg));
    const files = readdirSync(tarballs);
    const tarball = (name: string) => `file:${join(tarballs, files.find((f) => f.startsWith(`${name.replace('@', '').replace('/', '-')}-`)) as string)}`;
    const names = PACKAGES.map((p) => (p === 'phasekit' ? 'phasekit' : `@phasekit/${p}`));
    const deps = Object.fromEntries(names.map((n) => [n, tarball(n)]));
    const project = join(scratch, 'app');
    run('mkdir', ['-p', project], scratch);
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({
        name: 'pack-check', private: true, type: 'module',
        dependencies: { ...deps, fastify: '^5.6.0', express: '^5.1.0', '@types/express': '^5.0.0', '@types/node': '^20.19.0', typescript: '~5.9.3' },
        pnpm: { overrides: deps },
      }),
    );
    run('npx', [...PNPM, 'install', '--prefer-offline', '--config.node-linker=isolated'], project);
    // Nothing of the packages' TypeScript sources is shipped: types come from dist (@phasekit/lua
    // ships its bundled Lua modules, src/lualib, and nothing else of src).
    for (const n of names) {
      const dir = join(project, 'node_modules', n);
      const entries = readdirSync(dir);
      if (entries.includes('src')) expect([n, readdirSync(join(dir, 'src'))]).toEqual(['@phasekit/lua', ['lualib']]);
    }

    writeFileSync(
      join(project, 'check.ts'),
      [
        "import { createEngine, inject, type EngineConfig, type Ngx } from 'phasekit';",
        "import { createEngine as coreEngine, PHASE_FACTS } from '@phasekit/core';",
        "import { luaRuntime } from '@phasekit/lua';",
        "import { HaproxyExtension } from '@phasekit/haproxy';",
        "import { mapNginxConf } from '@phasekit/nginx';",
        "import { PluginsExtension, definePlugin } from '@phasekit/plugins';",
        "import { createHandler } from '@phasekit/node-http';",
        "import { runPhase } from '@phasekit/testing';",
        "import { phasekit as fastifyPlugin } from '@phasekit/fastify';",
        "import { phasekit as expressMiddleware } from '@phasekit/express';",
        'const config: EngineConfig = { locations: [{ match: "/", content: (ngx: Ngx) => ngx.say("ts"), log: { lua: "local x = 1" } }] };',
        'const engine = await createEngine(config);',
        'const res = await inject(engine, "/");',
        'const lua = await coreEngine({ locations: [{ match: "/", content: { lua: "ngx.say(1 + 1)" } }] }, { runtimes: [luaRuntime()], extensions: [new HaproxyExtension(), new PluginsExtension()] });',
        'const tagged = await createEngine({ locations: [{ match: "/", plugins: [{ name: "tag" }, { name: "cors" }], content: (ngx: Ngx) => ngx.say("p") }] }, { plugins: [definePlugin({ name: "tag", priority: 1, headerFilter: (ngx) => { ngx.header["X-Tag"] = "1"; } })] });',
        'const taggedRes = await inject(tagged, { url: "/", headers: { origin: "http://o" } });',
        'const one = await runPhase("content", { lua: "ngx.say(ngx.var.uri, require(\\"bit\\").band(7, 3))" });',
        'console.log(JSON.stringify([res.body, (await inject(lua, "/")).body, one.body, typeof createHandler, typeof fastifyPlugin, typeof expressMiddleware, PHASE_FACTS.rewrite.yields, mapNginxConf("events {} http { server { location / { return 204; } } }").config.locations.length, taggedRes.headers["x-tag"], taggedRes.headers["access-control-allow-origin"]]));',
        'await engine.close();',
        'await tagged.close();',
        'await lua.close();',
      ].join('\n'),
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, skipLibCheck: false, types: ['node'], outDir: 'out' }, files: ['check.ts'] }),
    );
    run(join(project, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], project);
    const out = run(process.execPath, ['out/check.js'], project).trim();
    expect(JSON.parse(out)).toEqual(['ts\n', '2\n', '/3\n', 'function', 'function', 'function', true, 1, '1', '*']);
  });
});
