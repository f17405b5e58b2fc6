import { QueueStatus, type JoinQueueInput } from '@stampede/contract';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { rememberTicket } from './remember-ticket';

/**
 * Joins with a solved challenge. 201 (joined) and 200 (already in: one ticket per account) both
 * answer the buyer's status, whose ticket is kept at once.
 */
export const joinQueue = async ({ productId, altcha }: { productId: number; altcha: string }) => {
  const body: JoinQueueInput = { altcha };
  const response = await api.post(`/queues/${productId}/join`, body);
  const status = parseResponse(QueueStatus, response.data);
  rememberTicket(productId, status, null);
  return status;
};
