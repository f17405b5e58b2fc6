/** Every route of the app, in one place, so links and redirects never drift from the router. */
export const paths = {
  home: '/',
  product: (id: number) => `/products/${id}`,
  queue: (productId: number) => `/queue/${productId}`,
  cart: '/cart',
  login: (next?: string) => (next ? `/login?next=${encodeURIComponent(next)}` : '/login'),
  register: (next?: string) => (next ? `/register?next=${encodeURIComponent(next)}` : '/register'),
  orders: '/orders',
  order: (id: number) => `/orders/${id}`,
  admin: {
    root: '/admin',
    products: '/admin/products',
    newProduct: '/admin/products/new',
    product: (id: number) => `/admin/products/${id}`,
    lowStock: '/admin/low-stock',
    orders: '/admin/orders',
    saleReport: (productId: number) => `/admin/sales/${productId}/report`,
  },
};

/** Only same-site paths are accepted as a `next` target; anything else goes home. */
export function safeNext(next: string | null | undefined): string {
  if (!next || !next.startsWith('/') || next.startsWith('//')) return paths.home;
  return next;
}
