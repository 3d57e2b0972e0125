// init → initWorker → requests → reload → close; timers on a fake clock; limits; premature runs.
import { describe, expect, it } from 'vitest';
import { createClock, createEngine, inject, type EngineConfig, type LogEntry, type Ngx } from 'phasekit';

async function engineOn(config: EngineConfig, clock = createClock()) {
  const logs: LogEntry[] = [];
  const engine = await createEngine(config, { clock, logger: (e) => logs.push(e) });
  return { engine, logs, clock };
}

describe('lifecycle order', () => {
  it('runs init, then initWorker, then serves requests; init may only log and use shared dicts', async () => {
    const order: string[] = [];
    const { engine, logs } = await engineOn({
      sharedDicts: { d: '1m' },
      init: (ngx) => {
        order.push(ngx.getPhase());
        ngx.shared.d?.set('boot', 1);
        try {
          ngx.timer.at(0, () => undefined);
        } catch (err) {
          order.push((err as Error).message);
        }
      },
      initWorker: (ngx) => void order.push(ngx.getPhase()),
      locations: [{ match: '/', content: (ngx) => { order.push('request'); ngx.say(String(ngx.shared.d?.get('boot'))); } }],
    });
    expect((await inject(engine, '/')).body).toBe('1\n');
    expect(order).toEqual(['init', 'no request', 'init_worker', 'request']);
    expect(logs).toEqual([]);
    await engine.close();
  });

  it('a failing init stops the engine from starting', async () => {
    await expect(createEngine({ init: () => { throw new Error('no'); }, locations: [] }, { logger: () => undefined }))
      .rejects.toMatchObject({ code: 'PHASEKIT_ERR_HANDLER' });
  });

  it('exitWorker runs on close', async () => {
    let exited = false;
    const { engine } = await engineOn({ exitWorker: () => void (exited = true), locations: [] });
    await engine.close();
    expect(exited).toBe(true);
  });
});

describe('timers', () => {
  it('a timer started in initWorker increments a shared dict that requests see (ngx.timer.every on a fake clock)', async () => {
    const { engine, clock } = await engineOn({
      sharedDicts: { d: '1m' },
      initWorker: (ngx) => {
        ngx.timer.every(1, (t: Ngx) => void t.shared.d?.incr('ticks', 1, 0));
      },
      locations: [{ match: '/', content: (ngx) => ngx.say(String(ngx.shared.d?.get('ticks') ?? 0)) }],
    });
    expect((await inject(engine, '/')).body).toBe('0\n');
    await clock.tick(3500);
    expect((await inject(engine, '/')).body).toBe('3\n');
    expect(engine.timers).toHaveLength(1);
    await engine.close();
  });

  it('callbacks get (ngx, premature, ...args) in the timer phase with their own ctx; errors are logged and harm nothing', async () => {
    const seen: unknown[] = [];
    const { engine, clock, logs } = await engineOn({
      locations: [{
        match: '/',
        content: (ngx) => {
          ngx.ctx.mine = true;
          ngx.timer.at(0.5, (t: Ngx, premature: boolean, a: unknown, b: unknown) => void seen.push(t.getPhase(), premature, a, b, t.ctx.mine));
          ngx.timer.at(0.5, () => { throw new Error('timer boom'); });
          ngx.say('scheduled');
        },
      }],
    });
    expect((await inject(engine, '/')).body).toBe('scheduled\n');
    await clock.tick(500);
    expect(seen).toEqual(['timer', false, undefined, undefined, undefined]);
    expect(logs.some((l) => l.message.includes('timer boom'))).toBe(true);
    expect((await inject(engine, '/')).body).toBe('scheduled\n');
    await engine.close();
  });

  it('passes extra arguments; counts pending and running; a handle cancels', async () => {
    const { engine, clock } = await engineOn({ locations: [] });
    const got: unknown[] = [];
    await engine.reload({
      initWorker: (ngx) => {
        const [h] = ngx.timer.at(1, (_t: Ngx, _p: boolean, ...args: unknown[]) => void got.push(...args), 'x', 2);
        const [c] = ngx.timer.at(1, () => void got.push('cancelled one ran'));
        c?.cancel();
        got.push(ngx.timer.pendingCount(), h !== undefined);
      },
      locations: [],
    });
    await clock.tick(1000);
    expect(got).toEqual([1, true, 'x', 2]);
    await engine.close();
  });

  it('past maxPendingTimers, at() answers [undefined, "too many pending timers"]; every(0) is refused', async () => {
    const results: unknown[] = [];
    const { engine } = await engineOn({
      maxPendingTimers: 2,
      initWorker: (ngx) => {
        for (let i = 0; i < 3; i++) results.push(ngx.timer.at(10, () => undefined)[1]);
        try {
          ngx.timer.every(0, () => undefined);
        } catch (err) {
          results.push((err as { code?: string }).code);
        }
      },
      locations: [],
    });
    expect(results).toEqual([undefined, undefined, 'too many pending timers', 'PHASEKIT_ERR_BAD_ARGUMENT']);
    await engine.close();
  });

  it('pending timers fire with premature = true on close', async () => {
    const fired: boolean[] = [];
    const { engine } = await engineOn({
      initWorker: (ngx) => void ngx.timer.at(60, (_t: Ngx, premature: boolean) => void fired.push(premature)),
      locations: [],
    });
    await engine.close();
    expect(fired).toEqual([true]);
  });
});

describe('reload', () => {
  it('re-runs init and initWorker with the new config, keeps shared dict data, fires old timers prematurely', async () => {
    const events: string[] = [];
    const config = (version: string): EngineConfig => ({
      sharedDicts: { d: '1m' },
      init: (ngx) => { ngx.shared.d?.incr('inits', 1, 0); events.push(`init ${version}`); },
      initWorker: (ngx) => void ngx.timer.at(60, (_t: Ngx, premature: boolean) => void events.push(`timer ${version} premature=${premature}`)),
      locations: [{ match: '/', content: (ngx) => ngx.say(version, ' ', String(ngx.shared.d?.get('inits')), ' ', String(ngx.worker.exiting())) }],
    });
    const { engine } = await engineOn(config('v1'));
    expect((await inject(engine, '/')).body).toBe('v1 1 false\n');
    await engine.reload(config('v2'));
    expect((await inject(engine, '/')).body).toBe('v2 2 false\n');
    expect(events).toEqual(['init v1', 'init v2', 'timer v1 premature=true']);
    await engine.close();
  });

  it('requests in flight finish on the code they started with', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const make = (v: string): EngineConfig => ({
      locations: [{ match: '/', content: async (ngx) => { if (ngx.var.arg_wait) await gate; ngx.say(v, ' ', String(ngx.worker.exiting())); } }],
    });
    const { engine } = await engineOn(make('old'));
    const slow = inject(engine, '/?wait=1');
    await new Promise((r) => setImmediate(r));
    const reloading = engine.reload(make('new'));
    await new Promise((r) => setImmediate(r));
    expect((await inject(engine, '/')).body).toBe('new false\n');
    release();
    expect((await slow).body).toBe('old true\n');
    await reloading;
    await engine.close();
  });

  it('a bad new config leaves the running generation in place', async () => {
    const { engine } = await engineOn({ locations: [{ match: '/', content: (ngx) => ngx.say('still') }] });
    await expect(engine.reload({ locations: [{ match: 'bad' }] })).rejects.toMatchObject({ code: 'PHASEKIT_ERR_CONFIG' });
    expect((await inject(engine, '/')).body).toBe('still\n');
    await engine.close();
  });
});

describe('close', () => {
  it('waits for an in-flight slow request, then refuses new ones', async () => {
    const { engine } = await engineOn({
      locations: [{ match: '/', content: async (ngx) => { await new Promise((r) => setTimeout(r, 30)); ngx.say('done'); } }],
    }, undefined);
    const slow = inject(engine, '/');
    await new Promise((r) => setImmediate(r));
    const closing = engine.close();
    expect((await slow).body).toBe('done\n');
    await closing;
    expect(() => engine.handle({} as never)).toThrow(expect.objectContaining({ code: 'PHASEKIT_ERR_ENGINE_CLOSED' }));
  });

  it('with a timeout, cuts requests still running when it expires', async () => {
    const clock = createClock();
    const { engine } = await engineOn({ locations: [{ match: '/', content: () => new Promise(() => undefined) }] }, clock);
    const stuck = inject(engine, '/');
    await new Promise((r) => setImmediate(r));
    const closing = engine.close({ timeout: 1000 });
    await clock.tick(1000);
    await closing;
    expect((await stuck).aborted).toBe(true);
  });
});
