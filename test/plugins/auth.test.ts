// key-auth, basic-auth and jwt: Kong's statuses, bodies and headers, the consumer sent upstream.
import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, type Engine } from 'phasekit';
import { echoBackend, pluginEngine, type Echo } from './helpers.js';

let backend: Echo;
let engine: Engine;
let messages: () => string[];
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

beforeAll(async () => {
  backend = await echoBackend();
  const r = await pluginEngine({
    upstreams: { backend: { servers: [backend.address] } },
    consumers: [
      { username: 'alice', custom_id: 'c-1', keyauth_credentials: [{ key: 'alice-key', id: 'cred-a' }], basicauth_credentials: [{ username: 'alice', password: 's3cret' }] },
      { username: 'bob', jwt_secrets: [{ key: 'bob-iss', secret: 'bob-secret' }, { key: 'bob-rsa', algorithm: 'RS256', rsa_public_key: rsaPem }] },
      { username: 'guest', id: 'anon-id' },
    ],
    locations: [
      { match: '/key/', plugins: [{ name: 'key-auth' }], proxyPass: 'http://backend' },
      { match: '/hidden/', plugins: [{ name: 'key-auth', config: { hide_credentials: true, key_names: ['x-api-key', 'apikey'] } }], proxyPass: 'http://backend' },
      { match: '/anon/', plugins: [{ name: 'key-auth', config: { anonymous: 'guest' } }], proxyPass: 'http://backend' },
      { match: '/anon-missing/', plugins: [{ name: 'key-auth', config: { anonymous: 'nobody' } }], proxyPass: 'http://backend' },
      { match: '/body/', plugins: [{ name: 'key-auth', config: { key_in_body: true, key_in_query: false, realm: 'api' } }], proxyPass: 'http://backend' },
      { match: '/preflight/', plugins: [{ name: 'key-auth', config: { run_on_preflight: false } }], proxyPass: 'http://backend' },
      { match: '/basic/', plugins: [{ name: 'basic-auth', config: { hide_credentials: true } }], proxyPass: 'http://backend' },
      { match: '/jwt/', plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp', 'nbf'], cookie_names: ['token'] } }], proxyPass: 'http://backend' },
      { match: '/jwt-max/', plugins: [{ name: 'jwt', config: { claims_to_verify: ['exp'], maximum_expiration: 60 } }], proxyPass: 'http://backend' },
      { match: '/either/', plugins: [{ name: 'key-auth', config: { anonymous: 'guest' } }, { name: 'basic-auth', config: { anonymous: 'guest' } }], proxyPass: 'http://backend' },
    ],
  });
  engine = r.engine;
  messages = r.messages;
});
afterAll(async () => {
  await engine.close();
  await backend.close();
});

const json = (body: string) => JSON.parse(body) as Record<string, unknown>;
const upstreamHeaders = (body: string) => (json(body).headers ?? {}) as Record<string, string>;

describe('key-auth', () => {
  it('401 "No API key found in request" with WWW-Authenticate: Key when there is no key', async () => {
    const res = await inject(engine, '/key/x');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Key');
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(json(res.body)).toEqual({ message: 'No API key found in request' });
  });

  it('401 "Unauthorized" for an unknown key, 401 "Duplicate API key found" for two', async () => {
    const bad = await inject(engine, { url: '/key/x', headers: { apikey: 'nope' } });
    expect([bad.status, json(bad.body), bad.headers['www-authenticate']]).toEqual([401, { message: 'Unauthorized' }, 'Key']);
    const dup = await inject(engine, '/key/x?apikey=a&apikey=b');
    expect([dup.status, json(dup.body)]).toEqual([401, { message: 'Duplicate API key found' }]);
  });

  it('a key in the header or the query string authenticates; the upstream gets X-Consumer-*', async () => {
    const h = await inject(engine, { url: '/key/x', headers: { apikey: 'alice-key' } });
    expect(h.status).toBe(200);
    expect(upstreamHeaders(h.body)).toMatchObject({ 'x-consumer-username': 'alice', 'x-consumer-id': 'alice', 'x-consumer-custom-id': 'c-1', 'x-credential-identifier': 'cred-a', apikey: 'alice-key' });
    expect(upstreamHeaders(h.body)['x-anonymous-consumer']).toBeUndefined();
    const q = await inject(engine, '/key/x?apikey=alice-key&n=1');
    expect([q.status, json(q.body).url]).toEqual([200, '/key/x?apikey=alice-key&n=1']);
  });

  it('hide_credentials removes the key from the header and the query string sent upstream', async () => {
    const h = await inject(engine, { url: '/hidden/x', headers: { 'x-api-key': 'alice-key', other: '1' } });
    expect(h.status).toBe(200);
    expect(upstreamHeaders(h.body)['x-api-key']).toBeUndefined();
    const q = await inject(engine, '/hidden/x?apikey=alice-key&n=1');
    expect(json(q.body).url).toBe('/hidden/x?n=1');
  });

  it('anonymous: requests without a valid key go on as the anonymous consumer (a 500 when it does not exist)', async () => {
    const res = await inject(engine, '/anon/x');
    expect(res.status).toBe(200);
    expect(upstreamHeaders(res.body)).toMatchObject({ 'x-consumer-username': 'guest', 'x-anonymous-consumer': 'true' });
    const missing = await inject(engine, '/anon-missing/x');
    expect([missing.status, json(missing.body)]).toEqual([500, { message: 'An unexpected error occurred' }]);
    expect(messages().join('\n')).toContain('key-auth: anonymous consumer "nobody" is configured but doesn\'t exist');
  });

  it('key_in_body reads form and JSON bodies; realm goes into WWW-Authenticate', async () => {
    const form = await inject(engine, { method: 'POST', url: '/body/x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'apikey=alice-key&a=1' });
    expect(form.status).toBe(200);
    const j = await inject(engine, { method: 'POST', url: '/body/x', headers: { 'content-type': 'application/json' }, body: '{"apikey":"alice-key"}' });
    expect(j.status).toBe(200);
    const none = await inject(engine, { method: 'POST', url: '/body/x?apikey=alice-key', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect([none.status, none.headers['www-authenticate']]).toEqual([401, 'Key realm="api"']);
  });

  it('run_on_preflight false lets CORS preflights through', async () => {
    const pre = await inject(engine, { method: 'OPTIONS', url: '/preflight/x', headers: { 'access-control-request-method': 'GET', origin: 'http://a' } });
    expect(pre.status).toBe(200);
    expect((await inject(engine, { method: 'OPTIONS', url: '/preflight/x' })).status).toBe(401);
  });

  it('with anonymous on both, either credential authenticates (Kong\'s logical OR)', async () => {
    const basic = await inject(engine, { url: '/either/x', headers: { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` } });
    expect(upstreamHeaders(basic.body)).toMatchObject({ 'x-consumer-username': 'alice' });
    expect(upstreamHeaders(basic.body)['x-anonymous-consumer']).toBeUndefined();
    const key = await inject(engine, { url: '/either/x', headers: { apikey: 'alice-key' } });
    expect(upstreamHeaders(key.body)).toMatchObject({ 'x-consumer-username': 'alice', 'x-credential-identifier': 'cred-a' });
  });
});

describe('basic-auth', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('401 "Unauthorized" with WWW-Authenticate: Basic realm="service" when missing, wrong or malformed', async () => {
    for (const authorization of [undefined, basic('alice:wrong'), basic('nobody:s3cret'), basic('alice'), 'Bearer x']) {
      const res = await inject(engine, { url: '/basic/x', headers: authorization === undefined ? {} : { authorization } });
      expect([res.status, json(res.body), res.headers['www-authenticate']]).toEqual([401, { message: 'Unauthorized' }, 'Basic realm="service"']);
    }
  });

  it('the right password authenticates (Authorization or Proxy-Authorization); hide_credentials drops the header', async () => {
    const res = await inject(engine, { url: '/basic/x', headers: { authorization: basic('alice:s3cret') } });
    expect(res.status).toBe(200);
    expect(upstreamHeaders(res.body)).toMatchObject({ 'x-consumer-username': 'alice' });
    expect(upstreamHeaders(res.body).authorization).toBeUndefined();
    expect((await inject(engine, { url: '/basic/x', headers: { 'proxy-authorization': basic('alice:s3cret') } })).status).toBe(200);
  });
});

describe('jwt', () => {
  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const hs256 = (claims: Record<string, unknown>, secret = 'bob-secret', header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }) => {
    const signed = `${b64(header)}.${b64(claims)}`;
    return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
  };
  const rs256 = (claims: Record<string, unknown>) => {
    const signed = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}`;
    return `${signed}.${sign('RSA-SHA256', Buffer.from(signed), rsa.privateKey).toString('base64url')}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const get = (token: string, url = '/jwt/x') => inject(engine, { url, headers: { authorization: `Bearer ${token}` } });

  it('HS256 and RS256 tokens of a consumer authenticate (header, query string, cookie)', async () => {
    const valid = () => ({ exp: now() + 60, nbf: now() - 1 });
    const h = await get(hs256({ iss: 'bob-iss', ...valid() }));
    expect(h.status).toBe(200);
    expect(upstreamHeaders(h.body)).toMatchObject({ 'x-consumer-username': 'bob' });
    expect((await get(rs256({ iss: 'bob-rsa', ...valid() }))).status).toBe(200);
    expect((await inject(engine, `/jwt/x?jwt=${hs256({ iss: 'bob-iss', ...valid() })}`)).status).toBe(200);
    expect((await inject(engine, { url: '/jwt/x', headers: { cookie: `token=${hs256({ iss: 'bob-iss', ...valid() })}` } })).status).toBe(200);
  });

  it('answers each failure with Kong\'s 401 body', async () => {
    const t = now();
    const cases: [string, unknown][] = [
      ['', { message: 'Unauthorized' }],
      ['abc', { message: 'Bad token; invalid JWT' }],
      ['a.b.c', { message: 'Bad token; invalid JSON' }],
      [hs256({ iss: 'bob-iss' }, 'bob-secret', { alg: 'none' }), { message: 'Bad token; invalid alg' }],
      [hs256({ sub: 'x' }), { message: "No mandatory 'iss' in claims" }],
      [hs256({ iss: 42 }), { message: "Invalid 'iss' in claims" }],
      [hs256({ iss: 'who' }), { message: "No credentials found for given 'iss'" }],
      [hs256({ iss: 'bob-rsa', exp: t + 60 }), { message: 'Invalid algorithm' }],
      [hs256({ iss: 'bob-iss', exp: t + 60 }, 'wrong'), { message: 'Invalid signature' }],
      [hs256({ iss: 'bob-iss', exp: t - 1, nbf: t - 10 }), { exp: 'token expired' }],
      [hs256({ iss: 'bob-iss', exp: t + 60, nbf: t + 30 }), { nbf: 'token not valid yet' }],
      // A claim to verify that is missing or not a number (Kong's registered-claims check).
      [hs256({ iss: 'bob-iss', exp: 'soon' }), { exp: 'must be a number', nbf: 'must be a number' }],
    ];
    for (const [token, body] of cases) {
      const res = token === '' ? await inject(engine, '/jwt/x') : await get(token);
      expect([token, res.status, json(res.body)]).toEqual([token, 401, body]);
    }
  });

  it('refuses two different tokens, and a token living longer than maximum_expiration', async () => {
    const res = await inject(engine, { url: `/jwt/x?jwt=${hs256({ iss: 'bob-iss', exp: now() + 5 })}`, headers: { authorization: `Bearer ${hs256({ iss: 'bob-iss', exp: now() + 6 })}` } });
    expect([res.status, json(res.body)]).toEqual([401, { message: 'Multiple tokens provided' }]);
    const long = await get(hs256({ iss: 'bob-iss', exp: now() + 3600 }), '/jwt-max/x');
    expect([long.status, json(long.body)]).toEqual([401, { exp: 'exceeds maximum allowed expiration' }]);
    expect((await get(hs256({ iss: 'bob-iss', exp: now() + 30 }), '/jwt-max/x')).status).toBe(200);
  });

  it('a jwt secret without what its algorithm needs is a config error', async () => {
    const { startError } = await import('./helpers.js');
    const err = await startError({ consumers: [{ username: 'x', jwt_secrets: [{ key: 'k', algorithm: 'RS256' }] }], locations: [] });
    expect(err.issues).toEqual([{ path: 'consumers[0].jwt_secrets[0].rsa_public_key', message: 'algorithm RS256 needs rsa_public_key (PEM)' }]);
  });
});
