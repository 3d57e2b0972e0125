// Unit tests for header-filter.ts: the header_filter phase alone, against a fabricated upstream response.

import { describe, expect, it } from 'vitest';
import { runPhase } from 'phasekit';
import { SECURITY_HEADERS, securityHeaders } from './header-filter.js';

const html = { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8', Server: 'gunicorn/21', 'X-Powered-By': 'Flask' } };

describe('securityHeaders', () => {
  it('adds the security headers and drops the ones that reveal the backend', async () => {
    const out = await runPhase('headerFilter', securityHeaders, { upstream: html });
    expect(out.error).toBeUndefined();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(out.headers[name.toLowerCase()]).toBe(value);
    expect(out.headers.server).toBeUndefined();
    expect(out.headers['x-powered-by']).toBeUndefined();
    expect(out.headers['content-security-policy']).toBe("default-src 'self'");
    expect(out.status).toBe(200);
  });

  it('sets no content security policy on JSON', async () => {
    const out = await runPhase('headerFilter', securityHeaders, { upstream: { status: 200, headers: { 'Content-Type': 'application/json' } } });
    expect(out.headers['content-security-policy']).toBeUndefined();
    expect(out.headers['x-content-type-options']).toBe('nosniff');
  });

  it('lets pages under /embed/ be framed', async () => {
    const out = await runPhase('headerFilter', securityHeaders, { upstream: html, request: { path: '/embed/video/1' } });
    expect(out.headers['x-frame-options']).toBeUndefined();
    expect(out.headers['strict-transport-security']).toBeDefined();
  });

  it('keeps error statuses as they are', async () => {
    const out = await runPhase('headerFilter', securityHeaders, { upstream: { status: 502 } });
    expect(out.status).toBe(502);
    expect(out.headers['x-frame-options']).toBe('DENY');
  });
});
