// phasekit as a Fastify plugin: the engine serves /hello, Fastify routes everything else.
// Run: PORT=3000 node --conditions=source --import tsx examples/fastify/server.mjs
import Fastify from 'fastify';
import { createEngine } from 'phasekit';
import { fastifyLogger, phasekit } from '@phasekit/fastify';

const app = Fastify({ logger: { level: 'warn' } });
const engine = await createEngine(
  {
    locations: [
      {
        match: '= /hello',
        access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(ngx.HTTP_FORBIDDEN) end' },
        content: { lua: 'ngx.print("hello from lua")' },
      },
    ],
  },
  { logger: fastifyLogger(app.log) }, // the engine's error log goes to Fastify's logger
);

await app.register(phasekit, { engine }); // no location matched: Fastify's router

// Per-route mode: Fastify routes this one; phasekit runs the access phase before its handler.
const denyRule = { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(ngx.HTTP_FORBIDDEN) end' };
app.get('/app', { config: { phases: { access: denyRule } } }, async () => 'app');
app.addHook('onClose', () => engine.close());

const address = await app.listen({ port: Number(process.env.PORT ?? 3000), host: '127.0.0.1' });
console.log(`listening on ${address}`);
