import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from './sha256';

const reference = (text: string) => createHash('sha256').update(text).digest('hex');

describe('sha256Hex (the fallback without WebCrypto)', () => {
  it('matches the standard digest, across block boundaries and non-ASCII text', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    for (const length of [1, 55, 56, 63, 64, 65, 119, 120, 200]) {
      const text = 'a'.repeat(length);
      expect(sha256Hex(text)).toBe(reference(text));
    }
    expect(sha256Hex('salt-é-✓42')).toBe(reference('salt-é-✓42'));
    for (let i = 0; i < 50; i += 1) {
      const text = `${randomBytes(12).toString('hex')}?expires=1893456000${i}`;
      expect(sha256Hex(text)).toBe(reference(text));
    }
  });
});
