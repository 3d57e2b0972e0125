// `node bench/re.mjs`: ngx.re calls from Lua, in-process (no sockets). One content handler per
// case runs a Lua loop of N calls; the table gives ns per call (wall) and CPU ns per call
// (process.cpuUsage), the median of interleaved rounds, and CPU minus an empty Lua loop's.
//
// Then the issue's ReDoS on every implementation, and two slow searches at three match limits.
//
//   pnpm build && node bench/re.mjs [--rounds=5] [--ms=400] [--no-limits]
//     [--impl=label=/path/to/phasekit/dist/index.js ...]
//
// With several --impl (for example a build of an earlier commit), their rounds alternate in one
// process, so that drift on the machine hits them alike. Without, it measures this checkout's build.
const args = process.argv.slice(2).map((a) => a.replace(/^--/, '').split(/=(.*)/s));
const ROUNDS = Number(args.find(([k]) => k === 'rounds')?.[1] ?? 5);
const MS = Number(args.find(([k]) => k === 'ms')?.[1] ?? 400);
const impls = args.filter(([k]) => k === 'impl').map(([, v]) => v.split(/=(.*)/s));
if (impls.length === 0) impls.push(['this checkout', 'phasekit']);

const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet',
  'kilo', 'lima', 'mike', 'november', 'oscar', 'papa', 'quebec', 'romeo', 'sierra', 'tango'];
const text10k = Array.from({ length: 1500 }, (_, i) => `w${i % 7}rd`).join(' ').slice(0, 10240);

/** name → [Lua setup, Lua call (inside the loop), what it is] */
const CASES = {
  empty: ['', 'local _ = s', 'empty loop (baseline)'],
  literal: ['local s = "GET /index.html HTTP/1.1 Mozilla/5.0"', 'find(s, "Mozilla", "jo")', 'find the literal `Mozilla` in 36 bytes'],
  digits: ['local s = "order 1234567890 shipped"', 'find(s, [[\\d+]], "jo")', 'find `\\d+` in 24 bytes'],
  api: ['local s = "/api/users/42"', 'match(s, [[^/api/(\\w+)]], "jo")', 'match `^/api/(\\w+)` on `/api/users/42`, 1 capture'],
  email: ['local s = "contact: someone.name@example.com today"', 'match(s, [[(\\w+)@(\\w+)\\.com]], "jo")', 'match `(\\w+)@(\\w+)\\.com`, 2 captures'],
  alt20: ['local s = "the quick brown fox jumps over lima beans"', `find(s, [[\\b(?:${words.join('|')})\\b]], "jo")`, 'find a 20-word alternation'],
  gsub10k: [`local s = ${JSON.stringify(text10k)}`, 'gsub(s, [[[a-z]+]], "x", "jo")', 'gsub `[a-z]+` → "x" over 10 KB (1,500 matches)'],
  compile: ['local s = "abc" local k = 0', 'k = k + 1 find(s, "b" .. (k % 512), "j")', 'find without "o": a compile per call'],
};

function config() {
  return {
    lua: { maxRunMs: 0 },
    locations: Object.entries(CASES).map(([name, [setup, call]]) => ({
      match: `= /${name}`,
      content: { lua: `local find, match, gsub = ngx.re.find, ngx.re.match, ngx.re.gsub ${setup}
local n = tonumber(ngx.var.arg_n)
for i = 1, n do ${call} end
ngx.say("ok")` },
    })),
  };
}

function fakeExchange(url) {
  const exchange = {
    method: 'GET', url, httpVersion: '1.1', headers: { host: 'x' }, rawHeaders: ['Host', 'x'],
    remoteAddress: '127.0.0.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 2, secure: false,
    readBody: () => Promise.resolve(new Uint8Array()),
    respond: () => undefined, writeHead: () => undefined, write: () => true, end: (done) => done?.(false),
    drained: () => Promise.resolve(), abort: () => undefined,
  };
  return exchange;
}

async function run(engine, url) {
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  await engine.handle(fakeExchange(url));
  const wall = Number(process.hrtime.bigint() - t) / 1e9;
  const used = process.cpuUsage(cpu);
  return { wall, cpu: (used.user + used.system) / 1e6 };
}

const engines = [];
for (const [label, spec] of impls) {
  const mod = await import(spec);
  engines.push({ label, engine: await mod.createEngine(config(), { logger: () => undefined }) });
}

// calibrate N per case on the first engine so that a run takes about MS
const counts = {};
for (const name of Object.keys(CASES)) {
  let n = 100;
  for (;;) {
    const { wall } = await run(engines[0].engine, `/${name}?n=${n}`);
    if (wall * 1000 > MS / 4 || n > 5e7) {
      counts[name] = Math.max(1, Math.round((n * MS) / 1000 / wall));
      break;
    }
    n *= 4;
  }
}

// one unmeasured round, so that every engine has compiled and cached its patterns
for (const name of Object.keys(CASES)) for (const { engine } of engines) await run(engine, `/${name}?n=${counts[name]}`);

const results = new Map(); // label/name → [{rate, cpuPerCall}]
for (let round = 0; round < ROUNDS; round++) {
  for (const name of Object.keys(CASES)) {
    for (const { label, engine } of round % 2 === 0 ? engines : [...engines].reverse()) {
      const n = counts[name];
      const { wall, cpu } = await run(engine, `/${name}?n=${n}`);
      const key = `${label}/${name}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push({ wallNs: (wall / n) * 1e9, cpuNs: (cpu / n) * 1e9 });
    }
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`\nNode ${process.version}, ${ROUNDS} interleaved rounds of ~${MS} ms per case; median round\n`);
console.log(`| case | ${engines.map((e) => `${e.label}: ns/call | CPU ns/call | minus empty loop`).join(' | ')} |`);
console.log(`| --- | ${engines.map(() => '---: | ---: | ---:').join(' | ')} |`);
for (const [name, [, , what]] of Object.entries(CASES)) {
  const cells = engines.map(({ label }) => {
    const rs = results.get(`${label}/${name}`);
    const empty = median(results.get(`${label}/empty`).map((r) => r.cpuNs));
    const cpu = median(rs.map((r) => r.cpuNs));
    const ns = (x) => Math.round(x).toLocaleString('en-US');
    return `${ns(median(rs.map((r) => r.wallNs)))} | ${ns(cpu)} | ${name === 'empty' ? '' : ns(cpu - empty)}`;
  });
  console.log(`| ${what} | ${cells.join(' | ')} |`);
}
for (const { engine } of engines) await engine.close();

// The issue's ReDoS, `^(\w+\s?)*$` on n × "a" + "!", one call per n on every implementation with
// its default limits. Without a match limit each "a" costs about 3× the time of the one before,
// so once a call has taken over a second the longer inputs are not run.
const REDOS_N = [16, 20, 24, 26, 28, 34, 1000];
console.log(`\n| \`^(\\w+\\s?)*$\` on n × "a" + "!", ms per call (median of ${ROUNDS}) | ${REDOS_N.map((n) => `n = ${n}`).join(' | ')} |`);
console.log(`| --- | ${REDOS_N.map(() => '---:').join(' | ')} |`);
for (const [label, spec] of impls) {
  const { createEngine } = await import(spec);
  const engine = await createEngine({
    lua: { maxRunMs: 0 },
    locations: [{ match: '= /redos', content: { lua: `local s = string.rep("a", tonumber(ngx.var.arg_n)) .. "!"
for i = 1, 1 do local m, err = ngx.re.match(s, [[^(\\w+\\s?)*$]], "jo") end
ngx.say("ok")` } }],
  }, { logger: () => undefined });
  const cells = [];
  let last;
  for (const n of REDOS_N) {
    if (last > 1000) {
      cells.push('not run');
      continue;
    }
    const times = [];
    for (let r = 0; r < ROUNDS; r++) times.push((await run(engine, `/redos?n=${n}`)).wall * 1000);
    last = median(times);
    cells.push(last < 10 ? last.toFixed(2) : last.toFixed(0));
  }
  console.log(`| ${label} | ${cells.join(' | ')} |`);
  await engine.close();
}

// The issue's ReDoS (`^(\w+\s?)*$` on 34 "a" and "!") and a search that is slow at every start
// position (`\s+$` on 20,000 spaces and "x"), on the last implementation, at three match limits:
// how long one call blocks before it returns "pcre_exec() failed: -8".
if (!args.some(([k]) => k === 'no-limits')) {
  const { createEngine } = await import(impls[impls.length - 1][1]);
  const SLOW = {
    redos: ['string.rep("a", 34) .. "!"', '[[^(\\w+\\s?)*$]]', '`^(\\w+\\s?)*$` on 34 × "a" + "!"'],
    spaces: ['string.rep(" ", 20000) .. "x"', '[[\\s+$]]', '`\\s+$` on 20,000 spaces + "x"'],
  };
  const limits = [100_000, 1_000_000, 0];
  console.log(`\n| one call (ms, median of ${ROUNDS}) | ${limits.map((l) => `regexMatchLimit ${l === 0 ? '0 (10,000,000)' : l.toLocaleString('en-US')}`).join(' | ')} |`);
  console.log(`| --- | ${limits.map(() => '---:').join(' | ')} |`);
  const rows = {};
  for (const limit of limits) {
    const engine = await createEngine({
      lua: { maxRunMs: 0, regexMatchLimit: limit },
      locations: Object.entries(SLOW).map(([name, [subj, pat]]) => ({
        match: `= /${name}`,
        content: { lua: `local s = ${subj} local t = os.clock() local m, err = ngx.re.find(s, ${pat}, "jo") ngx.ctx.ms = (os.clock() - t) * 1000 ngx.say(err)` },
      })),
    }, { logger: () => undefined });
    for (const name of Object.keys(SLOW)) {
      const times = [];
      for (let r = 0; r < ROUNDS; r++) times.push((await run(engine, `/${name}`)).cpu * 1000);
      (rows[name] ??= []).push(median(times).toFixed(0));
    }
    await engine.close();
  }
  for (const [name, [, , what]] of Object.entries(SLOW)) console.log(`| ${what} | ${rows[name].join(' | ')} |`);
}
