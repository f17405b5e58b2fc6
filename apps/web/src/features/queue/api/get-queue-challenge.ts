import { QueueChallenge } from '@stampede/contract';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';

/** A fresh proof-of-work challenge for one join; never cached, each is good for one try. */
export const getQueueChallenge = async ({ productId }: { productId: number }) => {
  const response = await api.get(`/queues/${productId}/challenge`);
  return parseResponse(QueueChallenge, response.data);
};
