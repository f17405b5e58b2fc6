import { AxiosError, AxiosHeaders } from 'axios';
import { describe, expect, it } from 'vitest';
import { parseRetryAfter, toApiError } from './api-error';

function axiosFailure(status: number, data: unknown, headers: Record<string, string> = {}) {
  const config = { headers: new AxiosHeaders() };
  return new AxiosError('failed', 'ERR_BAD_REQUEST', config, null, {
    status,
    statusText: '',
    data,
    headers: new AxiosHeaders(headers),
    config,
  });
}

describe('toApiError', () => {
  it("reads API.md's error body, the request id and Retry-After", () => {
    const error = toApiError(
      axiosFailure(
        429,
        { error: { code: 'rate_limited', message: 'slow down', details: { scope: 'orders' } } },
        { 'x-request-id': 'abc', 'retry-after': '2' },
      ),
    );
    expect(error).toMatchObject({
      code: 'rate_limited',
      message: 'slow down',
      status: 429,
      details: { scope: 'orders' },
      requestId: 'abc',
      retryAfterSeconds: 2,
    });
  });

  it('a body that is not the error shape still becomes a typed error', () => {
    expect(toApiError(axiosFailure(502, '<html>bad gateway</html>'))).toMatchObject({
      code: 'internal_error',
      status: 502,
    });
    expect(toApiError(axiosFailure(418, { nope: true }))).toMatchObject({ code: 'unknown_error' });
  });

  it('no answer at all is a network error whose outcome is unknown', () => {
    const error = toApiError(new AxiosError('Network Error', 'ERR_NETWORK'));
    expect(error.code).toBe('network_error');
    expect(error.status).toBeNull();
    expect(error.isOutcomeUnknown).toBe(true);
    expect(toApiError(new AxiosError('timeout', 'ECONNABORTED')).code).toBe('timeout');
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter('0.2')).toBe(1);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6);
    expect(parseRetryAfter('soon')).toBeNull();
    expect(parseRetryAfter(undefined)).toBeNull();
  });
});
