import type { User } from '@stampede/contract';
import { act, renderHook, screen, waitFor } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Route, Routes } from 'react-router';
import { beforeEach, describe, expect, it } from 'vitest';
import { queryKeys } from '@/api/query-keys';
import { useLogin } from '@/features/auth/api/login';
import { SESSION_STORAGE_KEY, useSessionStore } from '@/store/session-store';
import { mockApi } from '@/testing/mock-api';
import { createTestQueryClient, renderWithProviders } from '@/testing/render';
import { RequireAdmin, RequireAuth } from './guards';
import { AppLayout } from './layout';

const ada: User = { id: 1, email: 'ada@example.com', name: 'Ada Operator', role: 'admin' };

/** The server's answer to GET /auth/me for whichever token is sent. */
function serverSays(user: User) {
  return mockApi(({ url }) => {
    expect(url).toBe('/auth/me');
    return { status: 200, data: { user } };
  });
}

function renderConsole() {
  return renderWithProviders(
    <Routes>
      <Route element={<AppLayout />}>
        <Route
          path="/admin"
          element={
            <RequireAuth>
              <RequireAdmin>
                <p>The console</p>
              </RequireAdmin>
            </RequireAuth>
          }
        />
      </Route>
    </Routes>,
    { route: '/admin' },
  );
}

describe('the signed-in user is what the server says the token belongs to', () => {
  beforeEach(() => {
    useSessionStore.getState().signOut();
  });

  it('a restored token is looked up: the header names its user and the console opens', async () => {
    useSessionStore.getState().signIn({ accessToken: 'tok-ada', expiresInSeconds: 3600 });
    const requests = serverSays(ada);
    renderConsole();
    expect(await screen.findByText('The console')).toBeVisible();
    expect(screen.getByText('Ada Operator')).toBeVisible();
    expect(screen.getByRole('link', { name: 'Console' })).toBeVisible();
    expect(requests[0]?.headers.get('Authorization')).toBe('Bearer tok-ada');
  });

  it('an operator the server has demoted is turned away, whatever they were before', async () => {
    useSessionStore.getState().signIn({ accessToken: 'tok-ada', expiresInSeconds: 3600 });
    serverSays({ ...ada, role: 'customer' });
    renderConsole();
    expect(await screen.findByRole('heading', { name: 'Operators only' })).toBeVisible();
    expect(screen.queryByText('The console')).not.toBeInTheDocument();
    expect(screen.queryByRole('link', { name: 'Console' })).not.toBeInTheDocument();
  });

  it('signing in keeps only the token and its expiry in the store; the user answers the me query', async () => {
    const requests = mockApi(({ url }) => {
      expect(url).toBe('/auth/login');
      return { status: 200, data: { user: ada, access_token: 'tok-new', expires_in: 3600 } };
    });
    const queryClient = createTestQueryClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    );
    const { result } = renderHook(() => useLogin(), { wrapper });
    await act(() => result.current.mutateAsync({ email: ada.email, password: 'secret-enough' }));
    await waitFor(() => expect(useSessionStore.getState().session).not.toBeNull());

    expect(Object.keys(useSessionStore.getState().session ?? {}).sort()).toEqual([
      'accessToken',
      'expiresAt',
    ]);
    expect(sessionStorage.getItem(SESSION_STORAGE_KEY)).not.toContain(ada.name);
    expect(queryClient.getQueryData(queryKeys.auth.me)).toEqual(ada);
    expect(requests).toHaveLength(1);
  });
});
