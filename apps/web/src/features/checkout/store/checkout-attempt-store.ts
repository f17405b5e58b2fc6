import type { OrderLineInput } from '@stampede/contract';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/**
 * One checkout attempt = one cart content + one Idempotency-Key. Pressing "Place order" again for
 * the same cart while the attempt is open reuses the key, so a retry after a dropped connection
 * can never place a second order; a changed cart starts a new attempt with a new key. The attempt
 * is closed (and the next press gets a fresh key) once the server gave a definitive answer.
 *
 * Kept in sessionStorage: reloading the tab mid-attempt must not lose the key either.
 */
type Attempt = { key: string; fingerprint: string; startedAt: number };

type CheckoutAttemptState = {
  attempt: Attempt | null;
  /** The key for this cart: the open attempt's if it is for the same cart, else a new one. */
  keyFor: (fingerprint: string) => string;
  /** The server decided (201 or a definitive refusal): the next press is a new attempt. */
  close: () => void;
};

export const newIdempotencyKey = (): string => crypto.randomUUID();

/** Same lines in any order give the same fingerprint. */
export function cartFingerprint(items: readonly OrderLineInput[]): string {
  return [...items]
    .sort((a, b) => a.product_id - b.product_id)
    .map((item) => `${item.product_id}x${item.quantity}`)
    .join(',');
}

export const useCheckoutAttemptStore = create<CheckoutAttemptState>()(
  persist(
    (set, get) => ({
      attempt: null,
      keyFor: (fingerprint) => {
        const current = get().attempt;
        if (current && current.fingerprint === fingerprint) return current.key;
        const attempt = { key: newIdempotencyKey(), fingerprint, startedAt: Date.now() };
        set({ attempt });
        return attempt.key;
      },
      close: () => set({ attempt: null }),
    }),
    {
      name: 'stampede-checkout-attempt',
      version: 1,
      storage: createJSONStorage(() => sessionStorage),
    },
  ),
);
