import { MAX_LINE_QUANTITY, MAX_ORDER_LINES } from '@stampede/contract';
import { z } from 'zod';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/**
 * The cart is client state: which products and how many. Names, prices and stock are server state
 * and are read from the product queries, never copied in here, so a price change shows at once.
 */
export type CartLine = { productId: number; quantity: number };

export type CartChange =
  | { ok: true; quantity: number; clamped: boolean }
  | { ok: false; reason: 'too_many_lines' | 'limit_reached'; limit: number };

type CartState = {
  lines: CartLine[];
  /** Adds to the line's quantity, clamped to the product's limit. */
  add: (input: { productId: number; quantity?: number; maxPerUser?: number | null }) => CartChange;
  /** Sets the line's quantity, clamped to 1..limit. */
  setQuantity: (input: {
    productId: number;
    quantity: number;
    maxPerUser?: number | null;
  }) => CartChange;
  remove: (productId: number) => void;
  clear: () => void;
};

/** The most of one product a line may hold: the API's 100 per line, or less if the sale caps it. */
export function lineLimit(maxPerUser?: number | null): number {
  if (maxPerUser === null || maxPerUser === undefined || maxPerUser < 1) return MAX_LINE_QUANTITY;
  return Math.min(MAX_LINE_QUANTITY, Math.floor(maxPerUser));
}

export function clampQuantity(quantity: number, limit: number = MAX_LINE_QUANTITY): number {
  if (!Number.isFinite(quantity)) return 1;
  return Math.min(Math.max(1, Math.floor(quantity)), Math.max(1, limit));
}

export const CART_STORAGE_KEY = 'stampede-cart';

const StoredLines = z.array(z.object({ productId: z.int().positive(), quantity: z.number() }));

/** Whatever was in localStorage (another version, a hand edit) becomes a valid cart or nothing. */
function sanitizeLines(value: unknown): CartLine[] {
  const parsed = StoredLines.safeParse(value);
  if (!parsed.success) return [];
  const seen = new Set<number>();
  const lines: CartLine[] = [];
  for (const line of parsed.data) {
    if (seen.has(line.productId) || lines.length >= MAX_ORDER_LINES) continue;
    seen.add(line.productId);
    lines.push({ productId: line.productId, quantity: clampQuantity(line.quantity) });
  }
  return lines;
}

export const useCartStore = create<CartState>()(
  persist(
    (set, get) => ({
      lines: [],
      add: ({ productId, quantity = 1, maxPerUser }) => {
        const limit = lineLimit(maxPerUser);
        const lines = get().lines;
        const existing = lines.find((line) => line.productId === productId);
        if (!existing && lines.length >= MAX_ORDER_LINES) {
          return { ok: false, reason: 'too_many_lines', limit: MAX_ORDER_LINES };
        }
        if (existing && existing.quantity >= limit) {
          return { ok: false, reason: 'limit_reached', limit };
        }
        const wanted = (existing?.quantity ?? 0) + quantity;
        const next = clampQuantity(wanted, limit);
        set({
          lines: existing
            ? lines.map((line) =>
                line.productId === productId ? { ...line, quantity: next } : line,
              )
            : [...lines, { productId, quantity: next }],
        });
        return { ok: true, quantity: next, clamped: next !== wanted };
      },
      setQuantity: ({ productId, quantity, maxPerUser }) => {
        const limit = lineLimit(maxPerUser);
        const next = clampQuantity(quantity, limit);
        set({
          lines: get().lines.map((line) =>
            line.productId === productId ? { ...line, quantity: next } : line,
          ),
        });
        return { ok: true, quantity: next, clamped: next !== quantity };
      },
      remove: (productId) =>
        set({ lines: get().lines.filter((line) => line.productId !== productId) }),
      clear: () => set({ lines: [] }),
    }),
    {
      name: CART_STORAGE_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (state) => ({ lines: state.lines }),
      merge: (persisted, current) => ({
        ...current,
        lines: sanitizeLines((persisted as { lines?: unknown } | undefined)?.lines),
      }),
    },
  ),
);

// Another tab changed the cart: pick it up, so two tabs never place different carts.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (event) => {
    if (event.key === CART_STORAGE_KEY) void useCartStore.persist.rehydrate();
  });
}

export const useCartLines = () => useCartStore((state) => state.lines);
export const useCartCount = () =>
  useCartStore((state) => state.lines.reduce((sum, line) => sum + line.quantity, 0));
