// The config keys of nginx's own HTTP modules (rewrite, headers, static, error_page, access log),
// for JSON configs and for what an nginx.conf maps to.

import { z } from 'zod';

const size = z.union([z.number().int().min(0), z.string().regex(/^\d+[kKmMgG]?$/, 'a size is bytes, or a number with k, m or g ("1m", "512k")')]);
const varName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a variable name is letters, digits and "_"');

/** An `if` condition: nginx's words (`["$request_method", "=", "POST"]`) or one string (`"$request_method = POST"`). */
const condition = z.union([z.string().min(1), z.array(z.string()).min(1).max(3)]);

export interface RuleInput {
  set?: string;
  value?: string;
  lua?: string;
  luaFile?: string;
  args?: string[];
  rewrite?: string;
  replacement?: string;
  flag?: 'last' | 'break' | 'redirect' | 'permanent';
  return?: number;
  text?: string;
  if?: string | string[];
  then?: RuleInput[];
  break?: true;
}

/** One rewrite-module directive: set, set_by_lua, rewrite, return, if, break. */
export const ruleSchema: z.ZodType<RuleInput> = z.lazy(() =>
  z.union([
    z.object({ set: varName, value: z.string() }).strict(),
    z
      .object({ set: varName, lua: z.string().optional(), luaFile: z.string().min(1).optional(), args: z.array(z.string()).optional() })
      .strict()
      .refine((r) => (r.lua === undefined) !== (r.luaFile === undefined), 'a set rule has "value", "lua" or "luaFile"'),
    z.object({ rewrite: z.string().min(1), replacement: z.string(), flag: z.enum(['last', 'break', 'redirect', 'permanent']).optional() }).strict(),
    z.object({ return: z.number().int().min(0).max(999), text: z.string().optional() }).strict(),
    z.object({ if: condition, then: z.array(ruleSchema) }).strict(),
    z.object({ break: z.literal(true) }).strict(),
  ]),
);

const addHeader = z.object({ name: z.string().min(1), value: z.string(), always: z.boolean().optional() }).strict();

const errorPage = z
  .object({
    codes: z.array(z.number().int().min(300).max(599)).min(1),
    /** A URI (`/50x.html`), a named location (`@fallback`) or a URL (redirect). */
    target: z.string().min(1),
    /** `=200`: answer with this status; `"target"` (nginx's bare `=`): the target's own status. */
    status: z.union([z.number().int().min(100).max(999), z.literal('target')]).optional(),
  })
  .strict();

const accessLogTarget = z.object({ path: z.string().min(1), format: z.string().optional() }).strict();
/** `false` (access_log off) or where lines go: a file (relative to lua.prefix), `stdout` or `stderr`. */
const accessLog = z.union([z.literal(false), z.array(accessLogTarget)]);

export const nginxConfigSchema = {
  engine: {
    /** log_format: name → format with `$variables` (`combined` is built in). */
    logFormats: z.record(z.string().regex(/^[A-Za-z0-9_-]+$/), z.string()).optional(),
    /** The access log of locations that give none (default: none). */
    accessLog: accessLog.optional(),
    /** MIME types for static files, type → extensions (default: nginx's common ones). */
    types: z.record(z.string(), z.array(z.string())).optional(),
  },
  location: {
    /** nginx's rewrite-module directives, in order, run at the start of rewrite (before the rewrite handler). */
    rules: z.array(ruleSchema).optional(),
    /** Rules of the server level (nginx's server rewrite phase): run once, before `rules`. */
    serverRules: z.array(ruleSchema).optional(),
    addHeaders: z.array(addHeader).optional(),
    /** Static files: the folder (relative to lua.prefix) the URI is looked up under. */
    root: z.string().optional(),
    /** Static files: the location's prefix is replaced by this path. */
    alias: z.string().optional(),
    index: z.array(z.string().min(1)).optional(),
    tryFiles: z.array(z.string()).min(2).optional(),
    errorPages: z.array(errorPage).optional(),
    accessLog: accessLog.optional(),
    /** Per location: a larger request body answers 413 (checked on Content-Length). */
    clientMaxBodySize: size.optional(),
    /** lua_need_request_body: the body is read before the rewrite handler. */
    needRequestBody: z.boolean().optional(),
    /** log_not_found: log a missing static file (default true). */
    logNotFound: z.boolean().optional(),
    /** absolute_redirect: a redirect to a path gets scheme and host (default true). */
    absoluteRedirect: z.boolean().optional(),
    /** port_in_redirect: that absolute Location names the port (default true). */
    portInRedirect: z.boolean().optional(),
  },
} as const;

export type AddHeaderInput = z.input<typeof addHeader>;
export type ErrorPageInput = z.input<typeof errorPage>;
export type AccessLogInput = z.input<typeof accessLog>;

/** The location keys this extension adds, as TypeScript sees them. */
export interface NginxLocationKeys {
  rules?: RuleInput[];
  serverRules?: RuleInput[];
  addHeaders?: AddHeaderInput[];
  root?: string;
  alias?: string;
  index?: string[];
  tryFiles?: string[];
  errorPages?: ErrorPageInput[];
  accessLog?: AccessLogInput;
  clientMaxBodySize?: string | number;
  needRequestBody?: boolean;
  logNotFound?: boolean;
  absoluteRedirect?: boolean;
  portInRedirect?: boolean;
}

/** The top-level keys this extension adds. */
export interface NginxEngineKeys {
  logFormats?: Record<string, string>;
  accessLog?: AccessLogInput;
  types?: Record<string, string[]>;
}
