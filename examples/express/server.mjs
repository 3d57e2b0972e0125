// phasekit as Express middleware: the engine serves /hello, Express routes everything else.
// Run: PORT=3000 node --conditions=source --import tsx examples/express/server.mjs
import express from 'express';
import { createEngine } from 'phasekit';
import { phasekit } from '@phasekit/express';

const engine = await createEngine({
  locations: [
    {
      match: '= /hello',
      access: { lua: 'if ngx.var.arg_deny == "1" then return ngx.exit(ngx.HTTP_FORBIDDEN) end' },
      content: { lua: 'ngx.print("hello from lua")' },
    },
  ],
});

const app = express();
app.use(phasekit(engine)); // no location matched: next()
app.get('/app', (_req, res) => {
  res.type('text/plain').send('app');
});

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
