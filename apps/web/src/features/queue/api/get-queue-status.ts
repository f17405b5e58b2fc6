import { QueueStatus } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';
import { queryKeys } from '@/api/query-keys';
import type { QueryConfig } from '@/types/react-query';
import { getQueueTicket } from '../store/queue-ticket-store';
import { rememberTicket } from './remember-ticket';

export const QUEUE_TICKET_HEADER = 'X-Queue-Ticket';

/** Never faster than this, whatever an answer says: a zero would poll in a tight loop. */
export const MIN_POLL_MS = 500;
/** Never slower either: a buyer must learn of a turn, a sell-out or a return within a minute. */
export const MAX_POLL_MS = 60_000;
/** After a failed poll (the API restarting, a blip): try again this soon. */
export const ERROR_POLL_MS = 5_000;

export const getQueueStatus = async ({ productId }: { productId: number }) => {
  const ticket = getQueueTicket(productId);
  const response = await api.get(`/queues/${productId}/status`, {
    headers: ticket ? { [QUEUE_TICKET_HEADER]: ticket } : undefined,
  });
  const status = parseResponse(QueueStatus, response.data);
  rememberTicket(productId, status, ticket);
  return status;
};

/**
 * The next poll, as the server asks (`poll_after_ms` spreads the crowd and slows down those far
 * back); nothing more once the sale is over or the product has no queue.
 */
export function queueStatusPollMs(
  status: QueueStatus | undefined,
  failed: boolean = false,
): number | false {
  if (!status) return failed ? ERROR_POLL_MS : false;
  if (status.queue_state === 'off' || status.state === 'closed') return false;
  return Math.min(MAX_POLL_MS, Math.max(MIN_POLL_MS, status.poll_after_ms));
}

export const getQueueStatusQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: queryKeys.queue.status(productId),
    queryFn: () => getQueueStatus({ productId }),
    staleTime: MIN_POLL_MS,
  });

/**
 * A buyer's place in a sale's queue. `poll` keeps it live (the waiting room, a product page);
 * without it the answer is read once and kept a while (the catalogue's cards).
 */
export const useQueueStatus = ({
  productId,
  poll = true,
  queryConfig,
}: {
  productId: number;
  poll?: boolean;
  queryConfig?: QueryConfig<typeof getQueueStatusQueryOptions>;
}) =>
  useQuery({
    ...getQueueStatusQueryOptions(productId),
    ...(poll
      ? // A buyer waits in another tab: the turn must still be noticed there.
        {
          refetchInterval: (query: { state: { data?: QueueStatus; status: string } }) =>
            queueStatusPollMs(query.state.data, query.state.status === 'error'),
          refetchIntervalInBackground: true,
        }
      : { staleTime: 30_000 }),
    ...queryConfig,
  });
