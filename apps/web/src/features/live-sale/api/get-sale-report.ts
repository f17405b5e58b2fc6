import { SaleReport } from '@stampede/contract';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api } from '@/api/client';
import { parseResponse } from '@/api/parse';

export const getSaleReport = async ({ productId }: { productId: number }) => {
  const response = await api.get(`/admin/live/sales/${productId}/report`);
  return parseResponse(SaleReport, response.data);
};

/** A report of a sale still running refreshes itself; a finished sale's report does not move. */
export const getSaleReportQueryOptions = (productId: number) =>
  queryOptions({
    queryKey: ['admin', 'sale-report', productId] as const,
    queryFn: () => getSaleReport({ productId }),
    refetchInterval: (query) => (query.state.data?.running ? 5_000 : false),
  });

export const useSaleReport = ({ productId }: { productId: number }) =>
  useQuery(getSaleReportQueryOptions(productId));
