import { describe, expect, it } from 'vitest';
import { defaultPage, reasonPhrase } from './status.js';

describe('nginx default pages', () => {
  it('match nginx 1.22 byte for byte but for the server line', () => {
    expect(defaultPage(404)).toBe('<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>phasekit</center>\r\n</body>\r\n</html>\r\n');
  });

  it('use the page titles where nginx differs from the reason phrase', () => {
    expect(defaultPage(302)).toContain('<title>302 Found</title>');
    expect(reasonPhrase(302)).toBe('Moved Temporarily');
    expect(defaultPage(401)).toContain('401 Authorization Required');
  });

  it('has none for 2xx, 304, 408 and unknown statuses', () => {
    for (const status of [200, 204, 304, 408, 418, 600]) expect(defaultPage(status)).toBeUndefined();
    expect(defaultPage(503)).toContain('503 Service Temporarily Unavailable');
  });
});
