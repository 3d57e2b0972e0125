// What every exchange reads from the request node:http parsed: method, target, headers, addresses.

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { IncomingHeaders } from '@phasekit/core';

export abstract class IncomingRequest {
  protected readonly req: IncomingMessage;

  constructor(req: IncomingMessage) {
    this.req = req;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }
  get url(): string {
    return this.req.url ?? '/';
  }
  get httpVersion(): string {
    return this.req.httpVersion;
  }
  get headers(): IncomingHeaders {
    return this.req.headers;
  }
  get rawHeaders(): readonly string[] {
    return this.req.rawHeaders;
  }
  get remoteAddress(): string {
    return this.req.socket.remoteAddress ?? '';
  }
  get remotePort(): number {
    return this.req.socket.remotePort ?? 0;
  }
  get localAddress(): string {
    return this.req.socket.localAddress ?? '';
  }
  get localPort(): number {
    return this.req.socket.localPort ?? 0;
  }
  get secure(): boolean {
    return (this.req.socket as Partial<TLSSocket>).encrypted === true;
  }
}
