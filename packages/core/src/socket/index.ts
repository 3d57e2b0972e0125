// Cosockets: TCP and UDP sockets for handlers (ngx.socket), the request body / client connection
// as a socket (ngx.req.socket), and the engine's keepalive pools.

export { Cosockets, COSOCKET_DEFAULTS, closeScope, type Closable, type CosocketDefaults, type SocketScope } from './hub.js';
export { createTcpCosocket, type TcpCosocket, type ConnectOptions, type OkResult, type SendResult, type HandshakeResult } from './tcp.js';
export { createUdpCosocket, type UdpCosocket } from './udp.js';
export { bodySocket, rawSocket, type RequestSocket } from './request-socket.js';
export type { TlsOptions } from './tls.js';
export type { ReadResult, ReadPattern, Pending } from './reads.js';
