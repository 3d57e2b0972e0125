import { describe, expect, it } from 'vitest';
import { BodyTooLargeError } from './http/exchange.js';
import { BrandedError, ConfigError, PhasekitError } from './errors.js';
import type * as Errors from './errors.js';
import type * as Exchange from './http/exchange.js';

describe('errors are branded', () => {
  it('instanceof holds across two loaded copies of the module (two installed copies of a package)', async () => {
    const copy = (await import(`./errors.js?${'copy'}`)) as typeof Errors;
    expect(copy.ConfigError).not.toBe(ConfigError);
    const err = new copy.ConfigError([{ path: 'x', message: 'y' }]);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(PhasekitError);
    expect(err).toBeInstanceOf(BrandedError);
    expect(err).toBeInstanceOf(Error);
    expect(new copy.BadArgumentError('x')).not.toBeInstanceOf(ConfigError);
    const exchange = (await import(`./http/exchange.js?${'copy'}`)) as typeof Exchange;
    expect(new exchange.BodyTooLargeError(10)).toBeInstanceOf(BodyTooLargeError);
  });

  it('a plain object or another error is not an instance', () => {
    expect({ code: 'PHASEKIT_ERR_CONFIG' }).not.toBeInstanceOf(PhasekitError);
    expect(new Error('x')).not.toBeInstanceOf(PhasekitError);
    expect(null as unknown).not.toBeInstanceOf(PhasekitError);
  });
});
