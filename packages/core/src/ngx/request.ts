// The per-request `ngx` object TypeScript handlers receive: a thin facade over one module per API
// area (output, fields, header, var, req, timer, location, ssl, balancer); every call checks the phase table.

import type { ApiName } from '../phases/api-rules.js';
import { PHASE_NGX_NAME } from '../phases/facts.js';
import type { RequestState } from '../request/state.js';
import type { AnySharedDict } from '../shared-dict/index.js';
import type { ArgsInput } from '../text/args.js';
import { balancerApi } from './balancer.js';
import { allow } from './check.js';
import { NGX_CONSTANTS, type NgxConstants } from './constants.js';
import { getArg, getCtx, getStatus, log, setCtx, setStatus } from './fields.js';
import { headerProxy, respApi } from './header.js';
import { locationApi } from './location.js';
import { eof, exec, exit, flush, print, redirect, say, sendHeadersNow } from './output.js';
import { Req } from './req.js';
import { sslApi } from './ssl.js';
import { timerApi, workerApi } from './timer.js';
import { ngxSocket, onAbort } from './socket.js';
import type { BodyFilterArg, Ngx, NgxBalancer, NgxLocation, NgxReq, NgxResp, NgxSocket, NgxSsl, NgxTimer, NgxWorker, Printable } from './types.js';
import { varProxy } from './var.js';
import { guardWaitingDicts } from './shared-guard.js';

// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface NgxRequest extends NgxConstants {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class NgxRequest implements Ngx {
  readonly #s: RequestState;
  #header: Ngx['header'] | undefined;
  #var: Ngx['var'] | undefined;
  #req: NgxReq | undefined;
  #resp: NgxResp | undefined;
  #timer: NgxTimer | undefined;
  #worker: NgxWorker | undefined;
  #shared: Readonly<Record<string, AnySharedDict>> | undefined;
  #location: NgxLocation | undefined;
  #ssl: NgxSsl | undefined;
  #balancer: NgxBalancer | undefined;
  #socket: NgxSocket | undefined;

  constructor(state: RequestState) {
    this.#s = state;
  }

  flush(wait = false): Promise<[1] | [undefined, string]> {
    return flush(this.#s, wait);
  }

  eof(): boolean {
    return eof(this.#s);
  }

  sendHeaders(): void {
    sendHeadersNow(this.#s);
  }

  /** False while header_filter runs (nginx sets it once the header filters are done). */
  get headersSent(): boolean {
    const s = this.#s;
    return s.headersSent && s.phase !== 'headerFilter';
  }

  say(...values: Printable[]): boolean {
    return say(this.#s, values);
  }

  print(...values: Printable[]): boolean {
    return print(this.#s, values);
  }

  exit(status: number): void {
    exit(this.#s, status);
  }

  exec(uri: string, args?: string | ArgsInput): void {
    exec(this.#s, uri, args);
  }

  redirect(url: string, status = 302): void {
    redirect(this.#s, url, status);
  }

  get status(): number {
    return getStatus(this.#s);
  }

  set status(value: number) {
    setStatus(this.#s, value);
  }

  get header(): Ngx['header'] {
    allow(this.#s, 'ngx.header');
    return (this.#header ??= headerProxy(this.#s));
  }

  get var(): Ngx['var'] {
    allow(this.#s, 'ngx.var');
    return (this.#var ??= varProxy(this.#s));
  }

  get ctx(): Record<string, unknown> {
    return getCtx(this.#s);
  }

  set ctx(value: Record<string, unknown>) {
    setCtx(this.#s, value);
  }

  get arg(): BodyFilterArg {
    return getArg(this.#s);
  }

  get req(): NgxReq {
    return (this.#req ??= new Req(this.#s));
  }

  get resp(): NgxResp {
    return (this.#resp ??= respApi(this.#s));
  }

  get shared(): Readonly<Record<string, AnySharedDict>> {
    // Dicts whose calls wait are guarded: a phase that cannot wait refuses them with a clear error.
    return (this.#shared ??= guardWaitingDicts(this.#s));
  }

  get timer(): NgxTimer {
    return (this.#timer ??= timerApi(this.#s));
  }

  get socket(): NgxSocket {
    return (this.#socket ??= ngxSocket(this.#s));
  }

  onAbort(handler: () => void): [true] | [undefined, string] {
    return onAbort(this.#s, handler);
  }

  get worker(): NgxWorker {
    return (this.#worker ??= workerApi(this.#s));
  }

  get location(): NgxLocation {
    return (this.#location ??= locationApi(this.#s));
  }

  get ssl(): NgxSsl {
    return (this.#ssl ??= sslApi(this.#s));
  }

  get balancer(): NgxBalancer {
    return (this.#balancer ??= balancerApi(this.#s));
  }

  get isSubrequest(): boolean {
    return this.#s.parent !== undefined;
  }

  getPhase(): string {
    return PHASE_NGX_NAME[this.#s.phase];
  }

  log(level: number, ...values: Printable[]): void {
    log(this.#s, level, values);
  }

  now(): number {
    return Math.floor(this.#s.engine.clock.now()) / 1000;
  }

  /** The request behind `ngx`, when it is one of phasekit's. */
  static stateOf(ngx: Ngx): RequestState | undefined {
    return #s in ngx ? (ngx as NgxRequest).#s : undefined;
  }
}
Object.assign(NgxRequest.prototype, NGX_CONSTANTS);

/** For script runtimes: throws OpenResty's "API disabled ..." unless `api` may run in the phase `ngx`'s request is in. */
export function checkRequestApi(ngx: Ngx, api: ApiName): void {
  const s = NgxRequest.stateOf(ngx);
  if (s === undefined) throw new TypeError('not a phasekit request');
  allow(s, api);
}

/** The bit (PHASE_BIT) of the phase `ngx`'s request is in; test it against the masks of phases/facts.ts. */
export function phaseBitOf(ngx: Ngx): number {
  const s = NgxRequest.stateOf(ngx);
  if (s === undefined) throw new TypeError('not a phasekit request');
  return s.phaseBit;
}
