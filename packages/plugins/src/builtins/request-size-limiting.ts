// request-size-limiting: refuses request bodies over allowed_payload_size with 413
// {"message":"Request size limit exceeded"}; with require_content_length, 411 without a valid
// Content-Length. A body without Content-Length (chunked) is read to be measured, as Kong does.

import { stat } from 'node:fs/promises';
import type { Ngx } from '@phasekit/core';
import { z } from 'zod';
import { builtin, header, kongExit } from './common.js';

const UNITS = { bytes: 1, kilobytes: 1024, megabytes: 1024 * 1024 } as const;

const schema = z
  .object({
    allowed_payload_size: z.number().int().gt(0, 'expected number > 0').default(128),
    size_unit: z.enum(['bytes', 'kilobytes', 'megabytes']).default('megabytes'),
    require_content_length: z.boolean().default(false),
  })
  .strict();

interface Prepared {
  readonly max: number;
  readonly requireLength: boolean;
}

export function requestSizeLimiting() {
  return builtin({
    name: 'request-size-limiting',
    priority: 951,
    schema,
    prepare: (conf): Prepared => ({ max: conf.allowed_payload_size * UNITS[conf.size_unit], requireLength: conf.require_content_length }),
    methods: {
      access: (ngx, conf: Prepared) => {
        const length = header(ngx, 'content-length');
        if (length !== undefined) {
          if (!/^\d+$/.test(length.trim())) return kongExit(ngx, 411, 'A valid Content-Length header is required');
          if (Number(length) > conf.max) return kongExit(ngx, 413, 'Request size limit exceeded');
          return undefined;
        }
        if (conf.requireLength) return kongExit(ngx, 411, 'A valid Content-Length header is required');
        if (header(ngx, 'transfer-encoding') === undefined) return undefined;
        return measure(ngx, conf);
      },
    },
  });
}

async function measure(ngx: Ngx, conf: Prepared): Promise<void> {
  await ngx.req.readBody();
  const file = ngx.req.getBodyFile();
  const size = file === undefined ? (ngx.req.getBodyBuffer()?.byteLength ?? 0) : (await stat(file)).size;
  if (size > conf.max) kongExit(ngx, 413, 'Request size limit exceeded');
}
