// Types of suite.mjs (the case format) for the TypeScript runner.

/** set_by_lua: `var` computed by `lua` from `args` (nginx values, `$vars` allowed). */
export interface CaseSet {
  var: string;
  lua: string;
  args?: string[];
}

export interface CaseLocation {
  /** nginx location syntax: `= /x`, `^~ /x`, `/x`, `~ re`, `~* re`, `@name`. */
  match: string;
  /** `set $k v;` (values may use `$var`). */
  vars?: Record<string, string>;
  set?: CaseSet[];
  rewrite?: string;
  access?: string;
  content?: string;
  headerFilter?: string;
  bodyFilter?: string;
  log?: string;
  internal?: boolean;
  proxyPass?: string;
  defaultType?: string;
}

export interface CaseRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string | string[]> | [string, string][];
  body?: string | { base64: string };
  /** "1.1" (default) or "1.0". */
  http?: string;
  /** The whole request as latin1 text, sent as is. */
  raw?: string;
}

export interface CaseUpstream {
  servers?: string[];
  balancer?: string;
}

export interface TestCase {
  name: string;
  sharedDicts?: Record<string, string>;
  init?: string;
  initWorker?: string;
  lua?: { packagePath?: string; regexMatchLimit?: number; regexCacheMaxEntries?: number };
  upstreams?: Record<string, CaseUpstream>;
  clientBodyBufferSize?: string;
  clientMaxBodySize?: string;
  locations: CaseLocation[];
  requests: CaseRequest[];
  /** Record and compare the error-log lines (warn and above) of each request. */
  log?: boolean;
}

export const SUITE_DIR: string;
export const CASES_DIR: string;
export const RECORDINGS_DIR: string;
export function listAreas(): string[];
export function checkCase(c: TestCase, area: string): void;
export function loadArea(area: string): Promise<TestCase[]>;
export function fillPlaceholders<T>(value: T, ports: { port: number; deadPort: number }): T;
export function closedPort(): Promise<number>;
export const KEPT_LEVELS: Set<string>;
export function stripMachinePaths(text: string, prefix?: string): string;
export function normalizeNginxLog(text: string, prefix?: string): string[];
