import { z } from 'zod';
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';

/**
 * The signed queue tickets this browser holds, one per product. A ticket carries the buyer, the
 * sale, the join time and the draw; it is client state kept in localStorage so that a buyer's
 * place survives a reload, a closed tab and a queue rebuilt on the server from tickets. What the
 * place is now is server state (the status query), never stored here.
 */
type QueueTicketState = {
  tickets: Record<string, string>;
  setTicket: (productId: number, ticket: string) => void;
  dropTicket: (productId: number) => void;
};

export const QUEUE_TICKETS_STORAGE_KEY = 'stampede-queue-tickets';

const StoredTickets = z.record(z.string().regex(/^\d+$/), z.string().min(1).max(4096));

export const useQueueTicketStore = create<QueueTicketState>()(
  persist(
    (set, get) => ({
      tickets: {},
      setTicket: (productId, ticket) => {
        if (get().tickets[productId] === ticket) return;
        set({ tickets: { ...get().tickets, [productId]: ticket } });
      },
      dropTicket: (productId) => {
        if (!(productId in get().tickets)) return;
        const { [productId]: _dropped, ...rest } = get().tickets;
        set({ tickets: rest });
      },
    }),
    {
      name: QUEUE_TICKETS_STORAGE_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (state) => ({ tickets: state.tickets }),
      // A hand-edited or foreign value becomes no tickets rather than a header the API refuses.
      merge: (persisted, current) => {
        const parsed = StoredTickets.safeParse((persisted as { tickets?: unknown })?.tickets);
        return { ...current, tickets: parsed.success ? parsed.data : {} };
      },
    },
  ),
);

/** Read outside React, by the status fetcher. */
export const getQueueTicket = (productId: number): string | null =>
  useQueueTicketStore.getState().tickets[productId] ?? null;
