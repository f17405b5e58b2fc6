import { createBrowserRouter, Outlet } from 'react-router';
import { PageSpinner } from '@/components/ui/spinner';
import { setUnauthorizedHandler } from '@/api/client';
import { paths } from '@/utils/paths';
import { RequireAdmin, RequireAuth } from './guards';
import type * as AdminModule from './routes/admin';
import { AppLayout } from './layout';
import { LoginRoute, RegisterRoute } from './routes/auth';
import { CartRoute } from './routes/cart';
import { CatalogueRoute } from './routes/catalogue';
import { NotFoundRoute } from './routes/not-found';
import { OrderRoute, OrdersRoute } from './routes/orders';
import { ProductRoute } from './routes/product';
import { QueueRoute } from './routes/queue';
import { RouteError } from './routes/route-error';

const adminRoute = (name: keyof typeof AdminModule) => async () => {
  const module = await import('./routes/admin');
  return { Component: module[name] };
};

export const router = createBrowserRouter([
  {
    element: <AppLayout />,
    hydrateFallbackElement: <PageSpinner />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <CatalogueRoute /> },
      { path: 'products/:productId', element: <ProductRoute /> },
      {
        path: 'queue/:productId',
        element: (
          <RequireAuth>
            <QueueRoute />
          </RequireAuth>
        ),
      },
      { path: 'cart', element: <CartRoute /> },
      { path: 'login', element: <LoginRoute /> },
      { path: 'register', element: <RegisterRoute /> },
      {
        path: 'orders',
        element: (
          <RequireAuth>
            <OrdersRoute />
          </RequireAuth>
        ),
      },
      {
        path: 'orders/:orderId',
        element: (
          <RequireAuth>
            <OrderRoute />
          </RequireAuth>
        ),
      },
      {
        path: 'admin',
        element: (
          <RequireAuth>
            <RequireAdmin>
              <Outlet />
            </RequireAdmin>
          </RequireAuth>
        ),
        // The console is for a handful of operators: shoppers never download it.
        children: [
          {
            lazy: adminRoute('AdminLayout'),
            children: [
              { index: true, lazy: adminRoute('AdminLiveRoute') },
              { path: 'products', lazy: adminRoute('AdminProductsRoute') },
              { path: 'products/new', lazy: adminRoute('AdminNewProductRoute') },
              { path: 'products/:productId', lazy: adminRoute('AdminProductRoute') },
              { path: 'low-stock', lazy: adminRoute('AdminLowStockRoute') },
              { path: 'orders', lazy: adminRoute('AdminOrdersRoute') },
              { path: 'sales/:productId/report', lazy: adminRoute('AdminSaleReportRoute') },
            ],
          },
        ],
      },
      { path: '*', element: <NotFoundRoute /> },
    ],
  },
]);

// A 401 on an authenticated call means the session is over: back to login, then back here.
setUnauthorizedHandler(() => {
  const { pathname, search } = window.location;
  if (pathname === '/login' || pathname === '/register') return;
  void router.navigate(paths.login(pathname + search), { replace: true });
});
