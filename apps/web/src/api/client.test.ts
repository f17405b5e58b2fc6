import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SESSION_STORAGE_KEY, useSessionStore } from '@/store/session-store';
import { errorReply, mockApi } from '@/testing/mock-api';
import { isApiError } from './api-error';
import { api, setUnauthorizedHandler } from './client';

describe('api client', () => {
  beforeEach(() => {
    useSessionStore.getState().signOut();
  });

  it('sends the bearer token and keeps it in sessionStorage, never localStorage', async () => {
    useSessionStore.getState().signIn({ accessToken: 'tok-1', expiresInSeconds: 3600 });
    const requests = mockApi(() => ({ status: 200, data: { ok: true } }));
    await api.get('/auth/me');
    expect(requests[0]?.headers.get('Authorization')).toBe('Bearer tok-1');
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).toContain('tok-1');
    expect(JSON.stringify({ ...localStorage })).not.toContain('tok-1');
  });

  it('a 401 on an authenticated call signs out and hands over to the login redirect', async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    useSessionStore.getState().signIn({ accessToken: 'tok-2', expiresInSeconds: 3600 });
    mockApi(() => errorReply(401, 'unauthorized'));
    const error = await api.get('/orders').catch((caught: unknown) => caught);
    expect(isApiError(error) && error.code).toBe('unauthorized');
    expect(useSessionStore.getState().session).toBeNull();
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
  });

  it('a 401 from the login form (no token sent) is just an answer, not a redirect', async () => {
    const onUnauthorized = vi.fn();
    setUnauthorizedHandler(onUnauthorized);
    mockApi(() => errorReply(401, 'invalid_credentials'));
    const error = await api.post('/auth/login', {}).catch((caught: unknown) => caught);
    expect(isApiError(error) && error.code).toBe('invalid_credentials');
    expect(onUnauthorized).not.toHaveBeenCalled();
  });

  it('an expired stored session is not sent', async () => {
    useSessionStore.getState().signIn({ accessToken: 'old', expiresInSeconds: -1 });
    const requests = mockApi(() => ({ status: 200, data: {} }));
    await api.get('/products');
    expect(requests[0]?.headers.get('Authorization')).toBeFalsy();
  });
});
