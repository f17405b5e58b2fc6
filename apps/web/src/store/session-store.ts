import { User } from '@stampede/contract';
import { z } from 'zod';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/**
 * The signed-in user and their bearer token. Kept in memory and mirrored to sessionStorage (never
 * localStorage): it survives a reload of the tab but not the tab itself, and other tabs or a later
 * visit do not inherit it.
 */
export type Session = { accessToken: string; user: User; expiresAt: number };

type SessionState = {
  session: Session | null;
  signIn: (input: { accessToken: string; user: User; expiresInSeconds: number }) => void;
  signOut: () => void;
};

const StoredSession = z.object({
  accessToken: z.string().min(1),
  user: User,
  expiresAt: z.number(),
});

export const SESSION_STORAGE_KEY = 'stampede-session';

export const useSessionStore = create<SessionState>()(
  persist(
    (set) => ({
      session: null,
      signIn: ({ accessToken, user, expiresInSeconds }) =>
        set({ session: { accessToken, user, expiresAt: Date.now() + expiresInSeconds * 1000 } }),
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

export const useSession = () => useSessionStore((state) => state.session);
export const useCurrentUser = () => useSessionStore((state) => state.session?.user ?? null);
