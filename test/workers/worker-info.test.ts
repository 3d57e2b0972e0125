// ngx.worker.* from the engine's `worker` option (what createWorkers sets), in TypeScript and Lua.
import { describe, expect, it } from 'vitest';
import { createEngine, inject, type LogEntry, type Ngx } from 'phasekit';

describe('ngx.worker', () => {
  const worker = { id: 2, count: 4, pid: 4242, pids: () => [4240, 4241, 4242, 4243] };

  it('answers id, count, pid and pids from the engine option, in TypeScript and Lua', async () => {
    const engine = await createEngine(
      {
        locations: [
          { match: '= /ts', content: (ngx: Ngx) => ngx.say(JSON.stringify([ngx.worker.id(), ngx.worker.count(), ngx.worker.pid(), ngx.worker.pids()])) },
          { match: '= /lua', content: { lua: 'ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.pid(), " ", table.concat(ngx.worker.pids(), ","))' } },
        ],
      },
      { worker },
    );
    expect((await inject(engine, '/ts')).body).toBe('[2,4,4242,[4240,4241,4242,4243]]\n');
    expect((await inject(engine, '/lua')).body).toBe('2 4 4242 4240,4241,4242,4243\n');
    await engine.close();
  });

  it('pids() is refused in init and initWorker; id() and count() are not', async () => {
    const seen: unknown[] = [];
    const logs: LogEntry[] = [];
    const engine = await createEngine(
      {
        init: (ngx: Ngx) => {
          seen.push(ngx.worker.id(), ngx.worker.count());
          try {
            ngx.worker.pids();
          } catch (err) {
            seen.push((err as { code?: string }).code, (err as Error).message);
          }
        },
        locations: [],
      },
      { worker, logger: (e) => logs.push(e) },
    );
    expect(seen).toEqual([2, 4, 'PHASEKIT_ERR_API_DISABLED', 'API disabled in the current context']);
    await engine.close();
  });

  it('is worker 0 of 1 with the process id by default', async () => {
    const engine = await createEngine({ locations: [{ match: '/', content: { lua: 'ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", ngx.worker.pid() == ngx.worker.pids()[1])' } }] });
    expect((await inject(engine, '/')).body).toBe('0 1 true\n');
    await engine.close();
  });
});
