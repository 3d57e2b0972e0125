// HAProxy's AppletHTTP over the request's `ngx`: a service produces the content phase's response.

import { readFile } from 'node:fs/promises';
import { BadArgumentError } from '@phasekit/core';
import type { Ngx } from '@phasekit/core';
import type { TxnImpl } from './txn.js';
import type { AppletHttp, VarValue } from './types.js';

export class AppletImpl implements AppletHttp {
  readonly ngx: Ngx;
  readonly method: string;
  readonly version: string;
  readonly path: string;
  readonly qs: string;
  readonly length: number;
  readonly headers: Record<string, string[]>;
  readonly #txn: TxnImpl;
  #status = 200;
  readonly #headers: [string, string][] = [];
  #started = false;
  /** Output sent since the last flush: it goes out before the service waits. */
  #pending = false;
  #body: Promise<Buffer> | undefined;
  #offset = 0;

  constructor(txn: TxnImpl) {
    const ngx = txn.ngx;
    this.#txn = txn;
    this.ngx = ngx;
    this.method = ngx.req.getMethod();
    this.version = String(ngx.var.server_protocol ?? 'HTTP/1.1').replace(/^HTTP\//, '');
    this.path = String(ngx.var.uri ?? '/');
    this.qs = String(ngx.var.args ?? '');
    const length = Number(ngx.var.content_length ?? 0);
    this.length = Number.isFinite(length) ? length : 0;
    this.headers = txn.http.reqGetHeaders();
  }

  setStatus(status: number, _reason?: string): void {
    if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new BadArgumentError(`applet:set_status(): bad status ${String(status)} (100..599)`);
    }
    if (!this.#started) this.#status = status;
  }

  addHeader(name: string, value: string): void {
    if (typeof name !== 'string' || name === '') throw new BadArgumentError('applet:add_header(): a header name is expected');
    if (!this.#started) this.#headers.push([name, String(value)]);
  }

  startResponse(): void {
    if (this.#started) return;
    this.#started = true;
    const ngx = this.ngx;
    ngx.status = this.#status;
    const grouped = new Map<string, { name: string; values: string[] }>();
    for (const [name, value] of this.#headers) {
      const key = name.toLowerCase();
      const g = grouped.get(key);
      if (g === undefined) grouped.set(key, { name, values: [value] });
      else g.values.push(value);
    }
    for (const { name, values } of grouped.values()) ngx.header[name] = values.length === 1 ? values[0] : values;
  }

  send(data: string | Uint8Array): void {
    if (!this.#started) throw new BadArgumentError('applet:send(): call applet:start_response() first');
    this.ngx.print(typeof data === 'string' || data instanceof Uint8Array ? data : String(data));
    this.#pending = true;
  }

  async receiveBytes(size?: number): Promise<Uint8Array> {
    const body = await this.#loadBody();
    const end = size === undefined || size < 0 ? body.length : Math.min(body.length, this.#offset + size);
    const out = body.subarray(this.#offset, end);
    this.#offset = end;
    return out;
  }

  async receive(size?: number): Promise<string> {
    return Buffer.from(await this.receiveBytes(size)).toString();
  }

  async getlineBytes(): Promise<Uint8Array> {
    const body = await this.#loadBody();
    const nl = body.indexOf(10, this.#offset);
    const end = nl === -1 ? body.length : nl + 1;
    const out = body.subarray(this.#offset, end);
    this.#offset = end;
    return out;
  }

  async getline(): Promise<string> {
    return Buffer.from(await this.getlineBytes()).toString();
  }

  fetch(name: string, ...args: string[]): string | undefined {
    return this.#txn.fetch(name, ...args);
  }

  convert(name: string, value: string, ...args: string[]): string | undefined {
    return this.#txn.convert(name, value, ...args);
  }

  setVar(name: string, value: VarValue, ifExist?: boolean): void {
    this.#txn.setVar(name, value, ifExist);
  }

  getVar(name: string): VarValue | undefined {
    return this.#txn.getVar(name);
  }

  unsetVar(name: string): void {
    this.#txn.unsetVar(name);
  }

  /** Before the service waits (core.sleep): what it sent goes to the client now, as HAProxy's applet would. */
  beforeWait(): void {
    if (!this.#pending) return;
    this.#pending = false;
    void this.ngx.flush(false);
  }

  /** The service returned: a response it never started is started now (status and headers, empty body). */
  finish(): void {
    // Output made with ngx.say/ngx.print stands as it is.
    if (this.ngx.headersSent) this.#started = true;
    this.startResponse();
  }

  #loadBody(): Promise<Buffer> {
    return (this.#body ??= (async () => {
      const req = this.ngx.req;
      await req.readBody();
      const bytes = req.getBodyBuffer();
      if (bytes !== undefined) return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const file = req.getBodyFile();
      return file === undefined ? Buffer.alloc(0) : readFile(file);
    })());
  }
}
