// Socket failures in the words lua-nginx-module returns them ("connection refused", "timeout").

/** errno names → the text nginx's cosockets return (strerror in lower case, as nginx gives it). */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRNOTAVAIL: 'cannot assign requested address',
  EADDRINUSE: 'address already in use',
  ENOTSOCK: 'socket operation on non-socket',
  ECONNABORTED: 'software caused connection abort',
  EMSGSIZE: 'message too long',
  EINVAL: 'invalid argument',
};

/** errno numbers as nginx prints them in its error log ("connect() failed (111: Connection refused)"). */
const ERRNO_NUMBER: Readonly<Record<string, number>> = {
  ECONNREFUSED: 111,
  ECONNRESET: 104,
  EPIPE: 32,
  ENOENT: 2,
  EACCES: 13,
  ETIMEDOUT: 110,
  EHOSTUNREACH: 113,
  ENETUNREACH: 101,
};

/** The message a cosocket call returns for a Node socket error. */
export function socketErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    const text = ERRNO_TEXT[code];
    if (text !== undefined) return text;
    if (code === 'ERR_SOCKET_CLOSED' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END') return 'closed';
  }
  return err instanceof Error ? err.message.toLowerCase() : String(err);
}

/** `connect() failed (111: Connection refused)`: the error-log line nginx writes for a failed syscall. */
export function syscallLogText(syscall: string, err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  const text = typeof code === 'string' ? ERRNO_TEXT[code] : undefined;
  const n = typeof code === 'string' ? ERRNO_NUMBER[code] : undefined;
  if (text === undefined || n === undefined) return `${syscall} failed (${socketErrorText(err)})`;
  return `${syscall} failed (${n}: ${text.charAt(0).toUpperCase()}${text.slice(1)})`;
}

/** OpenSSL's verify result numbers for the codes Node reports (`18: self-signed certificate`). */
const VERIFY_NUMBER: Readonly<Record<string, number>> = {
  UNABLE_TO_GET_ISSUER_CERT: 2,
  UNABLE_TO_GET_CRL: 3,
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 4,
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 6,
  CERT_SIGNATURE_FAILURE: 7,
  CERT_NOT_YET_VALID: 9,
  CERT_HAS_EXPIRED: 10,
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 13,
  ERROR_IN_CERT_NOT_AFTER_FIELD: 14,
  DEPTH_ZERO_SELF_SIGNED_CERT: 18,
  SELF_SIGNED_CERT_IN_CHAIN: 19,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 20,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 21,
  CERT_CHAIN_TOO_LONG: 22,
  CERT_REVOKED: 23,
  INVALID_CA: 24,
  PATH_LENGTH_EXCEEDED: 25,
  INVALID_PURPOSE: 26,
  CERT_UNTRUSTED: 27,
  CERT_REJECTED: 28,
};

/** What sslhandshake returns for a failed handshake: `18: self-signed certificate`, `certificate host mismatch`, `handshake failed`. */
export function tlsErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'certificate host mismatch';
  if (typeof code === 'string') {
    const n = VERIFY_NUMBER[code];
    if (n !== undefined) return `${n}: ${(err as Error).message}`;
    if (ERRNO_TEXT[code] !== undefined) return ERRNO_TEXT[code] as string;
  }
  return 'handshake failed';
}
