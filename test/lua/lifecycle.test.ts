// Lua in init / init_worker / timers, reload with a fresh VM, ngx.worker and ngx.config.
import { describe, expect, it } from 'vitest';
import { createClock, createEngine, inject, type EngineConfig, type LogEntry } from 'phasekit';

async function engineOn(config: EngineConfig) {
  const logs: LogEntry[] = [];
  const clock = createClock();
  const engine = await createEngine(config, { clock, logger: (e) => logs.push(e) });
  return { engine, logs, clock };
}

describe('Lua lifecycle', () => {
  it('init_worker starts ngx.timer.every; the callback gets premature and args, runs in the timer phase', async () => {
    const { engine, clock, logs } = await engineOn({
      sharedDicts: { d: '1m' },
      init: { lua: 'ngx.shared.d:set("phase", ngx.get_phase())' },
      initWorker: {
        lua: `local ok, err = ngx.timer.every(1, function(premature, step, t)
                ngx.shared.d:incr("ticks", step, 0)
                ngx.shared.d:set("seen", ngx.get_phase() .. " " .. tostring(premature) .. " " .. t.name)
              end, 2, { name = "tbl" })
              ngx.shared.d:set("ok", ok)`,
      },
      locations: [{ match: '/', content: { lua: 'ngx.say(ngx.shared.d:get("phase"), " ", ngx.shared.d:get("ok"), " ", ngx.shared.d:get("ticks") or 0, " ", ngx.shared.d:get("seen"), " ", ngx.timer.pending_count())' } }],
    });
    await clock.tick(2000);
    expect((await inject(engine, '/')).body).toBe('init 1 4 timer false tbl 1\n');
    expect(logs).toEqual([]);
    await engine.close();
  });

  it('timer callbacks may sleep (on the engine clock) and errors in them are logged', async () => {
    const { engine, clock, logs } = await engineOn({
      sharedDicts: { d: '1m' },
      initWorker: { lua: 'ngx.timer.at(0, function() ngx.sleep(5) ngx.shared.d:set("woke", true) end) ngx.timer.at(0, function() error("timer boom") end)' },
      locations: [{ match: '/', content: { lua: 'ngx.say(tostring(ngx.shared.d:get("woke")))' } }],
    });
    await clock.tick(1);
    expect((await inject(engine, '/')).body).toBe('nil\n');
    await clock.tick(5000);
    expect((await inject(engine, '/')).body).toBe('true\n');
    expect(logs.map((l) => l.message).join('\n')).toContain('timer boom');
    await engine.close();
  });

  it('ngx.timer.at refuses a non-function and reports the pending limit', async () => {
    const { engine, logs } = await engineOn({
      maxPendingTimers: 1,
      initWorker: { lua: 'ngx.timer.at(10, function() end) ngx.log(ngx.ERR, select(2, ngx.timer.at(10, function() end))) ngx.log(ngx.ERR, select(2, pcall(ngx.timer.at, 1, "x")))' },
      locations: [],
    });
    expect(logs.map((l) => l.message)).toEqual([
      '[lua] init_worker:1: too many pending timers',
      "[lua] init_worker:1: bad argument #2 to 'at' (function expected, got string)",
    ]);
    await engine.close();
  });

  it('close fires pending Lua timers with premature = true before the VM closes', async () => {
    const { engine, logs } = await engineOn({
      errorLogLevel: 'notice',
      initWorker: { lua: 'ngx.timer.at(60, function(premature) ngx.log(ngx.NOTICE, "premature=", premature, " exiting=", ngx.worker.exiting()) end)' },
      locations: [],
    });
    await engine.close();
    expect(logs.map((l) => l.message)).toEqual(['[lua] init_worker:1: premature=true exiting=true']);
  });

  it('reload builds a fresh VM (globals gone), runs init again, keeps shared dict data', async () => {
    const config: EngineConfig = {
      sharedDicts: { d: '1m' },
      init: { lua: 'ngx.shared.d:incr("inits", 1, 0) counter = (counter or 0) + 1 ngx.shared.d:set("counter", counter)' },
      locations: [{ match: '/', content: { lua: 'ngx.say(ngx.shared.d:get("inits"), " ", ngx.shared.d:get("counter"))' } }],
    };
    const { engine } = await engineOn(config);
    expect((await inject(engine, '/')).body).toBe('1 1\n');
    await engine.reload();
    expect((await inject(engine, '/')).body).toBe('2 1\n');
    await engine.close();
  });

  it('ngx.worker and ngx.config describe phasekit', async () => {
    const { engine } = await engineOn({
      lua: { prefix: '/srv/app' },
      locations: [{ match: '/', content: { lua: 'ngx.say(ngx.worker.id(), " ", ngx.worker.count(), " ", type(ngx.worker.pid()), " ", tostring(ngx.worker.exiting()), " ", ngx.config.prefix(), " ", ngx.config.ngx_lua_version, " ", ngx.config.subsystem)' } }],
    });
    expect((await inject(engine, '/')).body).toBe('0 1 number false /srv/app/ 10023 http\n');
    await engine.close();
  });
});
