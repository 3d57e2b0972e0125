// Streams 200 MB through a body_filter to a client and reports the server's peak RSS: with
// `await ngx.flush(true)` the handler waits for the socket, so memory stays flat. A second run
// uses a slow client (reading 64 KB every 2 ms) to show the server does not buffer ahead of it.
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { createEngine, createHandler } from 'phasekit';

const MB = 1024 * 1024;
const TOTAL_MB = Number(process.env.TOTAL_MB ?? 200);
const chunk = 'x'.repeat(MB);

const engine = await createEngine({
  locations: [{
    match: '= /stream',
    content: async (ngx) => {
      for (let i = 0; i < TOTAL_MB; i++) {
        ngx.print(chunk);
        await ngx.flush(true);
      }
    },
    bodyFilter: (ngx) => {
      if (process.env.FILTER === 'replace' && typeof ngx.arg.chunk === 'string') ngx.arg.chunk = ngx.arg.chunk.replace(/x/g, 'y');
    },
  }],
});
const server = createServer(createHandler(engine));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

async function run(label, readDelayMs) {
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = Date.now();
  const received = await new Promise((resolve, reject) => {
    let bytes = 0;
    const sock = connect(port, '127.0.0.1', () => sock.write('GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    sock.on('data', (d) => {
      bytes += d.length;
      if (readDelayMs > 0) {
        sock.pause();
        setTimeout(() => sock.resume(), readDelayMs);
      }
    });
    sock.on('end', () => resolve(bytes));
    sock.on('error', reject);
  });
  clearInterval(sampler);
  const mb = (n) => (n / MB).toFixed(0);
  console.log(`| ${label} | ${mb(received)} MB | ${((Date.now() - started) / 1000).toFixed(1)} s | ${mb(baseline)} MB | ${mb(peak)} MB | +${mb(peak - baseline)} MB |`);
}

console.log(`\nNode ${process.version}: ${TOTAL_MB} MB through a body_filter\n`);
console.log('| client | received | time | RSS before | RSS peak | growth |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
await run('fast reader', 0);
await run('slow reader (64 KB per 2 ms)', 2);
server.close();
await engine.close();
