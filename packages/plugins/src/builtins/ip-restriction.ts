// ip-restriction: allow and deny lists of addresses and CIDR ranges, IPv4 and IPv6 (an IPv4-mapped
// IPv6 client matches IPv4 rules), on node:net's BlockList. Kong's answer: 403
// {"message":"Your IP address is not allowed"} (status and message configurable).

import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { builtin, kongExit } from './common.js';

/** `10.0.0.0/8`, `2001:db8::/32` or one address. */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } | undefined {
  const slash = text.indexOf('/');
  const address = slash === -1 ? text : text.slice(0, slash);
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(max) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const cidr = z.string().refine((s) => parseCidr(s) !== undefined, { message: 'expected an IP address or a CIDR range (10.0.0.0/8, 2001:db8::/32)' });

const schema = z
  .object({
    allow: z.array(cidr).optional(),
    deny: z.array(cidr).optional(),
    status: z.number().int().min(400).max(599).default(403),
    message: z.string().default('Your IP address is not allowed'),
  })
  .strict()
  .refine((c) => (c.allow?.length ?? 0) + (c.deny?.length ?? 0) > 0, { message: 'expected at least one of allow, deny' });

type Conf = z.output<typeof schema>;

interface Prepared extends Conf {
  readonly allowList: BlockList | undefined;
  readonly denyList: BlockList | undefined;
}

function listOf(entries: readonly string[] | undefined): BlockList | undefined {
  if (entries === undefined || entries.length === 0) return undefined;
  const list = new BlockList();
  for (const e of entries) {
    const c = parseCidr(e);
    if (c !== undefined) list.addSubnet(c.address, c.prefix, c.family);
  }
  return list;
}

export function ipRestriction() {
  return builtin({
    name: 'ip-restriction',
    priority: 990,
    schema,
    prepare: (conf): Prepared => ({ ...conf, allowList: listOf(conf.allow), denyList: listOf(conf.deny) }),
    methods: {
      access: (ngx, conf: Prepared) => {
        const ip = String(ngx.var.remote_addr ?? '');
        const family = isIP(ip);
        if (family === 0) return kongExit(ngx, 403, 'Cannot identify the client IP address, unix domain sockets are not supported.');
        const type = family === 4 ? 'ipv4' : 'ipv6';
        if (conf.denyList?.check(ip, type) === true) return kongExit(ngx, conf.status, conf.message);
        if (conf.allowList !== undefined && !conf.allowList.check(ip, type)) return kongExit(ngx, conf.status, conf.message);
        return undefined;
      },
    },
  });
}
