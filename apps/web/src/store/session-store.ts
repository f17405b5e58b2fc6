import { z } from 'zod';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/**
 * The bearer token and when it expires: the only client state a sign-in leaves. Kept in memory and
 * mirrored to sessionStorage (never localStorage): it survives a reload of the tab but not the tab
 * itself, and other tabs or a later visit do not inherit it. Who the token belongs to is server
 * state, answered by `GET /api/auth/me` through its query (features/auth/api/get-me.ts), so a role
 * changed on the server shows up without signing in again.
 */
export type Session = { accessToken: string; expiresAt: number };

type SessionState = {
  session: Session | null;
  signIn: (input: { accessToken: string; expiresInSeconds: number }) => void;
  signOut: () => void;
};

// Version 1 also stored the user; that shape still parses (the user is dropped), so a tab signed
// in before this change stays signed in.
const StoredSession = z.object({
  accessToken: z.string().min(1),
  expiresAt: z.number(),
});

export const SESSION_STORAGE_KEY = 'stampede-session';

export const useSessionStore = create<SessionState>()(
  persist(
    (set) => ({
      session: null,
      signIn: ({ accessToken, expiresInSeconds }) =>
        set({ session: { accessToken, expiresAt: Date.now() + expiresInSeconds * 1000 } }),
      signOut: () => set({ session: null }),
    }),
    {
      name: SESSION_STORAGE_KEY,
      version: 1,
      storage: createJSONStorage(() => sessionStorage),
      partialize: (state) => ({ session: state.session }),
      // A stored session that is malformed or expired is dropped rather than trusted.
      merge: (persisted, current) => {
        const parsed = StoredSession.safeParse((persisted as { session?: unknown })?.session);
        const session = parsed.success && parsed.data.expiresAt > Date.now() ? parsed.data : null;
        return { ...current, session };
      },
    },
  ),
);

/** The token for the Authorization header, read outside React (the Axios interceptor). */
export const getAccessToken = (): string | null => {
  const session = useSessionStore.getState().session;
  if (!session || session.expiresAt <= Date.now()) return null;
  return session.accessToken;
};

export const useIsSignedIn = () => useSessionStore((state) => state.session !== null);
