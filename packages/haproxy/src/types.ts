// HAProxy's Lua contexts in TypeScript: the shapes of fetches, converters, actions, services and tasks.

import type { Ngx } from '@phasekit/core';

/** Return codes of an action, HAProxy's `act.*` (ACT_RET_*): the same numbers. */
export const ACT = Object.freeze({
  /** Go on with the next action (the default when an action returns nothing). */
  CONTINUE: 0,
  /** Skip the remaining actions of this list; the location's own handler still runs. */
  STOP: 1,
  /** Run the same action again after `act.wake_time` ms (or on the next turn); http-req only. */
  YIELD: 2,
  /** 500. */
  ERROR: 3,
  /** Skip the remaining actions and the location's own access (http-req) or headerFilter (http-res) handler. */
  DONE: 4,
  /** 403 in http-req; 502 in http-res (the response is replaced). */
  DENY: 5,
  /** Close the connection without (another) response. */
  ABORT: 6,
  /** 400 in http-req; 502 in http-res. */
  INVALID: 7,
} as const);

export type ActCode = (typeof ACT)[keyof typeof ACT];

/** The rule lists an action may be used in: `http-request` (access phase) and `http-response` (header_filter). */
export type ActionRuleset = 'http-req' | 'http-res';

/** What fetches and converters may return; numbers and booleans become strings, null/undefined is "no sample". */
export type SampleResult = string | number | boolean | null | undefined;

/** A sample fetch: reads something from the transaction. May not wait (returning a promise is an error). */
export type FetchFn = (txn: Txn, ...args: string[]) => SampleResult;
/** A converter: transforms a string; no transaction, no context. May not wait. */
export type ConverterFn = (value: string, ...args: string[]) => SampleResult;
/** An action: returns an `ACT` code (or nothing: CONTINUE), or a promise of one in http-req. */
export type ActionFn = (txn: Txn, ...args: string[]) => unknown;
/** An HTTP service (applet): produces the response of the location it is the `service` of. */
export type ServiceFn = (applet: AppletHttp) => unknown;
/** A background task: started after init (or at once when the engine runs), stopped on close and reload. */
export type TaskFn = (task: HaproxyTask, ...args: unknown[]) => unknown;

/** A variable's value, as HAProxy variables hold them. */
export type VarValue = string | number | boolean;

/** What `txn.done(reply)` answers with (HAProxy's Reply). */
export interface TxnReply {
  /** Default 200. */
  status?: number;
  /** Kept for HAProxy compatibility; Node sends its standard reason phrase. */
  reason?: string;
  headers?: Record<string, string | readonly string[]>;
  body?: string | Uint8Array;
}

/** HAProxy's HTTP class: the request and response as an action sees them (`txn.http`). */
export interface TxnHttp {
  /** Request headers: lower-case names, every value (comma-joined lines stay one value). */
  reqGetHeaders(): Record<string, string[]>;
  resGetHeaders(): Record<string, string[]>;
  /** Replaces every `name` header with one. */
  reqSetHeader(name: string, value: string): void;
  reqAddHeader(name: string, value: string): void;
  reqDelHeader(name: string): void;
  /** Each value of `name` that `regex` matches becomes `replace` (`\1`… are the groups). */
  reqRepHeader(name: string, regex: string, replace: string): void;
  resSetHeader(name: string, value: string): void;
  resAddHeader(name: string, value: string): void;
  resDelHeader(name: string): void;
  resRepHeader(name: string, regex: string, replace: string): void;
  reqSetMethod(method: string): void;
  /** Changes the path ($uri); the query string stays. */
  reqSetPath(path: string): void;
  /** Changes the query string ($args), without `?`. */
  reqSetQuery(query: string): void;
  /** Changes path and query: `/a?b=1`. */
  reqSetUri(uri: string): void;
  resSetStatus(status: number, reason?: string): void;
}

/** HAProxy's TXN class: one HTTP transaction, as actions and fetches get it. */
export interface Txn {
  /** The request's `ngx` (everything the phase allows). */
  readonly ngx: Ngx;
  readonly http: TxnHttp;
  /** Runs a sample fetch (`"req.hdr"`, `"lua.geo"`): its value, or undefined when there is none. */
  fetch(name: string, ...args: string[]): string | undefined;
  /** Runs a converter (`"lower"`, `"lua.tag"`) on `value`. */
  convert(name: string, value: string, ...args: string[]): string | undefined;
  /**
   * Sets a scoped variable (`txn.user`, `req.x`, `proc.count`); `txn.user` is `$txn_user` for
   * `ngx.var`. With `ifExist`, only a variable that exists already (or that the location declares) is set.
   */
  setVar(name: string, value: VarValue, ifExist?: boolean): void;
  getVar(name: string): VarValue | undefined;
  unsetVar(name: string): void;
  /** Ends the transaction: answers `reply`, or without one closes the connection. */
  done(reply?: TxnReply): void;
  /** Logs at an HAProxy level (0 emerg … 7 debug). */
  log(level: number, message: string): void;
}

/** HAProxy's AppletHTTP class: what a service gets. */
export interface AppletHttp {
  readonly ngx: Ngx;
  readonly method: string;
  /** `"1.1"`. */
  readonly version: string;
  /** The path ($uri). */
  readonly path: string;
  /** The query string, without `?` (`""` when there is none). */
  readonly qs: string;
  /** The request body's length (Content-Length), 0 when unknown. */
  readonly length: number;
  /** Request headers: lower-case names, every value. */
  readonly headers: Record<string, string[]>;
  /** 100..599; the reason is accepted and not sent (Node sends its own). */
  setStatus(status: number, reason?: string): void;
  /** Adds a response header (repeated names are kept); ignored once the response started. */
  addHeader(name: string, value: string): void;
  /** Sends the status and headers with the first `send` (or when the service ends). */
  startResponse(): void;
  /** Sends body data; call `startResponse()` first. */
  send(data: string | Uint8Array): void;
  /** Reads `size` bytes of the request body (all of the rest without `size`); `""` at the end. */
  receive(size?: number): Promise<string>;
  receiveBytes(size?: number): Promise<Uint8Array>;
  /** Reads one line of the body, with its `\n` (the last one may have none); `""` at the end. */
  getline(): Promise<string>;
  getlineBytes(): Promise<Uint8Array>;
  fetch(name: string, ...args: string[]): string | undefined;
  convert(name: string, value: string, ...args: string[]): string | undefined;
  setVar(name: string, value: VarValue, ifExist?: boolean): void;
  getVar(name: string): VarValue | undefined;
  unsetVar(name: string): void;
}

/** What a task gets: its own `ngx` (timer phase), sleeps that end when the task is stopped. */
export interface HaproxyTask {
  readonly ngx: Ngx;
  /** Aborted when the engine closes or reloads. */
  readonly signal: AbortSignal;
  readonly stopped: boolean;
  /** Waits on the engine's clock; rejects with `TaskStoppedError` when the task is stopped. */
  sleep(seconds: number): Promise<void>;
  msleep(ms: number): Promise<void>;
  /** Lets the event loop run (HAProxy's core.yield). */
  yield(): Promise<void>;
}

/** Registrations given before the engine starts: `createEngine(config, { haproxy: {...} })`. */
export interface HaproxyRegistrations {
  fetches?: Record<string, FetchFn>;
  converters?: Record<string, ConverterFn>;
  actions?: Record<string, { on: readonly ActionRuleset[]; fn: ActionFn; nbArgs?: number }>;
  services?: Record<string, ServiceFn>;
  tasks?: readonly TaskFn[];
}
