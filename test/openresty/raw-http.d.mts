// Types of raw-http.mjs for the TypeScript runner.
import type { CaseRequest } from './suite.mjs';

export type BodyValue = string | { base64: string };

export interface RawResponse {
  status: number | null;
  /** Lower-cased names; a repeated header's values in order. */
  headers: Record<string, string | string[]>;
  framing: 'length' | 'chunked' | 'none' | 'closed' | 'timeout';
  body: BodyValue;
  /** The connection closed before the framing said the body ended. */
  incomplete?: boolean;
  timeout?: boolean;
  /** Bytes received without a complete header block. */
  partial?: BodyValue;
}

export function bodyBytes(body: CaseRequest['body']): Buffer | undefined;
export function requestBytes(req: CaseRequest): Buffer;
export function bodyValue(buf: Buffer): BodyValue;
export function parseResponse(buf: Buffer, method: string, timedOut?: boolean): RawResponse;
export function sendRequest(port: number, req: CaseRequest, options?: { timeoutMs?: number }): Promise<RawResponse>;
