import type { QueueStatus } from '@stampede/contract';
import { useQueueTicketStore } from '../store/queue-ticket-store';

/**
 * Keeps the ticket an answer carries (it may be reissued, e.g. with the draw once it happened).
 * "Not joined" without a ticket, although one was sent, means the server does not accept it
 * (another account's, another sale's, a ticket from before a reset): it is dropped, so that the
 * buyer can join again instead of sending a dead ticket forever.
 */
export function rememberTicket(productId: number, status: QueueStatus, sent: string | null) {
  const store = useQueueTicketStore.getState();
  if (status.ticket) store.setTicket(productId, status.ticket);
  else if (sent && status.state === 'not_joined') store.dropTicket(productId);
}
