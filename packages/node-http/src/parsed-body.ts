// The one rule for a request body a framework's parser already consumed (Fastify, Express).

/**
 * What the engine reads as the body once a framework's parser has consumed the request stream:
 * - the exact bytes, when the framework kept them (`rawBody`, or a Buffer / string body);
 * - for a JSON body it parsed into a value, that value as JSON text again (the same data; the
 *   client's whitespace and key order are not kept);
 * - nothing for any other parsed body (a form parsed into an object cannot be turned back into
 *   the bytes the client sent), as if the client had sent none.
 * Returns undefined when there is nothing to give back.
 */
export function parsedBody(contentType: string | undefined, body: unknown, rawBody?: unknown): Uint8Array | undefined {
  if (rawBody instanceof Uint8Array) return rawBody;
  if (typeof rawBody === 'string') return Buffer.from(rawBody);
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (body !== undefined && body !== null && isJson(contentType)) return Buffer.from(JSON.stringify(body));
  return undefined;
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = (contentType.split(';')[0] as string).trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}
