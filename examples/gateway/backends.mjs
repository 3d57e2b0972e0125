// Two small demo backends for the gateway: each answers JSON naming itself, after a little work.
import { createServer } from 'node:http';

/** Starts backends on `ports` (0 = any free port); resolves with their addresses and a close(). */
export async function startBackends(ports = [9001, 9002]) {
  const servers = await Promise.all(
    ports.map(
      (port, i) =>
        new Promise((resolve, reject) => {
          const name = `backend-${i + 1}`;
          const server = createServer((req, res) => {
            // A few milliseconds of "work", different per backend, so the stats have something to show.
            setTimeout(() => {
              res.writeHead(200, { 'content-type': 'application/json' });
              // What the gateway's plugins added on the way: the consumer (key-auth) and the plan (demo-plan).
              const seen = { consumer: req.headers['x-consumer-username'], plan: req.headers['x-plan'] };
              res.end(JSON.stringify({ backend: name, path: req.url, method: req.method, ...seen }) + '\n');
            }, 2 + i * 3);
          });
          server.once('error', reject);
          // The gateway's server keeps the process alive; `phasekit plugins` may exit with these open.
          server.unref();
          server.listen(port, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  return {
    addresses: servers.map((s) => `127.0.0.1:${s.address().port}`),
    close: () => Promise.all(servers.map((s) => new Promise((r) => s.close(r)))),
  };
}
