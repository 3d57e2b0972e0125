// correlation-id: a request id in a request header (kept when the client sent one), sent upstream,
// and with echo_downstream back to the client. Generators as Kong's: uuid, uuid#counter, tracker.

import { randomUUID } from 'node:crypto';
import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { peekSlots, slotsOf } from '../request-state.js';
import { builtin, header } from './common.js';

const schema = z
  .object({
    header_name: z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'expected a header name').default('Kong-Request-ID'),
    generator: z.enum(['uuid', 'uuid#counter', 'tracker']).default('uuid#counter'),
    echo_downstream: z.boolean().default(false),
  })
  .strict();

type Conf = z.output<typeof schema>;


export function correlationId() {
  // uuid#counter: one uuid for this engine, a counter per request (cheap, unique per engine).
  const base = randomUUID();
  let counter = 0;
  const generate = (ngx: Ngx, conf: Conf): string => {
    switch (conf.generator) {
      case 'uuid':
        return randomUUID();
      case 'uuid#counter':
        return `${base}#${++counter}`;
      default: {
        const v = ngx.var;
        return `${v.server_addr ?? ''}-${v.server_port ?? 0}-${process.pid}-${v.connection ?? 0}-${v.connection_requests ?? 0}-${ngx.now()}`;
      }
    }
  };
  return builtin({
    name: 'correlation-id',
    priority: 100001,
    schema,
    methods: {
      access: (ngx, conf: Conf) => {
        let id = header(ngx, conf.header_name);
        if (id === undefined || id === '') {
          id = generate(ngx, conf);
          ngx.req.setHeader(conf.header_name, id);
        }
        if (conf.echo_downstream) slotsOf(ngx).correlationId = id;
      },
      headerFilter: (ngx, conf: Conf) => {
        if (!conf.echo_downstream) return;
        const id = peekSlots(ngx)?.correlationId as string | undefined;
        if (id !== undefined) ngx.header[conf.header_name] = id;
      },
    },
  });
}
