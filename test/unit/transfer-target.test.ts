import { describe, expect, it } from 'vitest';
import { maskTarget, parseTransferTarget, tryParseTransferTarget } from '../../src/domain/transfer-target.js';
import { identifierOfTarget } from '../../src/adapters/acs/transfer-identifiers.js';
import { loadConfig } from '../../src/config.js';

describe('parseTransferTarget', () => {
  it('reads +E164, 4:+E164, 8:acs:, 8:orgid:, 8:dod:, 8:gcch: (the raw ids ACS uses)', () => {
    expect(parseTransferTarget('+14255550123')).toEqual({ kind: 'phoneNumber', rawId: '4:+14255550123', phoneNumber: '+14255550123' });
    expect(parseTransferTarget(' 4:+44 20 7946 0958 ')).toEqual({ kind: 'phoneNumber', rawId: '4:+442079460958', phoneNumber: '+442079460958' });
    expect(parseTransferTarget('8:acs:res-1_user-2')).toEqual({ kind: 'communicationUser', rawId: '8:acs:res-1_user-2' });
    expect(parseTransferTarget('8:orgid:11111111-2222-3333-4444-555555555555')).toMatchObject({ kind: 'microsoftTeamsUser', cloud: 'public' });
    expect(parseTransferTarget('8:dod:abc')).toMatchObject({ kind: 'microsoftTeamsUser', cloud: 'dod' });
    expect(parseTransferTarget('8:gcch:abc')).toMatchObject({ kind: 'microsoftTeamsUser', cloud: 'gcch' });
  });

  it('refuses what is not a target', () => {
    for (const bad of ['', '14255550123', '+0123456789', '+1234', '+1234567890123456', '8:acs:', '8:teams:x', 'sip:agent@example.com', '4:abc']) {
      expect(() => parseTransferTarget(bad), bad).toThrow();
      expect(tryParseTransferTarget(bad)).toBeNull();
    }
    expect(tryParseTransferTarget(42)).toBeNull();
  });

  it('masks phone numbers in logs (last two digits only) and user ids to their kind and tail', () => {
    expect(maskTarget(parseTransferTarget('+14255550123'))).toBe('4:+***23');
    expect(maskTarget(parseTransferTarget('8:acs:res-1_user-2'))).toBe('8:acs:…er-2');
    expect(maskTarget(parseTransferTarget('8:orgid:abcdef'))).toBe('8:orgid:…cdef');
  });

  it('becomes the SDK identifier shapes (communication-common)', () => {
    expect(identifierOfTarget(parseTransferTarget('+14255550123'))).toEqual({ phoneNumber: '+14255550123', rawId: '4:+14255550123' });
    expect(identifierOfTarget(parseTransferTarget('8:acs:r_u'))).toEqual({ communicationUserId: '8:acs:r_u' });
    expect(identifierOfTarget(parseTransferTarget('8:gcch:abc'))).toEqual({ microsoftTeamsUserId: 'abc', cloud: 'gcch', rawId: '8:gcch:abc' });
  });
});

describe('TRANSFER_TARGET', () => {
  it('is optional, parsed once, and a bad value names the variable without echoing it', () => {
    expect(loadConfig({}).transfer.target).toBeNull();
    expect(loadConfig({ TRANSFER_TARGET: '8:acs:r_u' }).transfer.target).toEqual({ kind: 'communicationUser', rawId: '8:acs:r_u' });
    let message = '';
    try {
      loadConfig({ TRANSFER_TARGET: '0042555501' });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/TRANSFER_TARGET: /);
    expect(message).not.toContain('0042555501');
  });
});
