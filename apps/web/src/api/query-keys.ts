/**
 * Query keys shared across features. Features never import each other, but a cancelled order must
 * refresh the stock a product card shows, so the keys of shared resources live here.
 */
export const queryKeys = {
  products: {
    all: ['products'] as const,
    list: (params: { search?: string; page?: number; pageSize?: number }) =>
      ['products', 'list', params] as const,
    detail: (id: number) => ['products', 'detail', id] as const,
    stock: (id: number) => ['products', 'stock', id] as const,
  },
  orders: {
    all: ['orders'] as const,
    list: (params: { page?: number; pageSize?: number }) => ['orders', 'list', params] as const,
    detail: (id: number) => ['orders', 'detail', id] as const,
  },
  auth: {
    me: ['auth', 'me'] as const,
  },
  /** A buyer's place in a sale's waiting room: the product page and the waiting room share it. */
  queue: {
    all: ['queue'] as const,
    status: (productId: number) => ['queue', 'status', productId] as const,
  },
  admin: {
    all: ['admin'] as const,
    products: (params: { search?: string; page?: number }) =>
      ['admin', 'products', params] as const,
    lowStock: (threshold: number) => ['admin', 'low-stock', threshold] as const,
    orders: (params: { status?: string; page?: number; pageSize?: number }) =>
      ['admin', 'orders', params] as const,
    sold: (productIds: readonly number[]) => ['admin', 'sold', productIds] as const,
    queue: (productId: number) => ['admin', 'queue', productId] as const,
  },
};
