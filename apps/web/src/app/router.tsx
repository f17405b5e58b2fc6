import { createBrowserRouter } from 'react-router';
import { setUnauthorizedHandler } from '@/api/client';
import { paths } from '@/utils/paths';
import { RequireAdmin, RequireAuth } from './guards';
import { AppLayout } from './layout';
import {
  AdminLayout,
  AdminLiveRoute,
  AdminLowStockRoute,
  AdminNewProductRoute,
  AdminOrdersRoute,
  AdminProductRoute,
  AdminProductsRoute,
} from './routes/admin';
import { LoginRoute, RegisterRoute } from './routes/auth';
import { CartRoute } from './routes/cart';
import { CatalogueRoute } from './routes/catalogue';
import { NotFoundRoute } from './routes/not-found';
import { OrderRoute, OrdersRoute } from './routes/orders';
import { ProductRoute } from './routes/product';
import { RouteError } from './routes/route-error';

export const router = createBrowserRouter([
  {
    element: <AppLayout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <CatalogueRoute /> },
      { path: 'products/:productId', element: <ProductRoute /> },
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
              <AdminLayout />
            </RequireAdmin>
          </RequireAuth>
        ),
        children: [
          { index: true, element: <AdminLiveRoute /> },
          { path: 'products', element: <AdminProductsRoute /> },
          { path: 'products/new', element: <AdminNewProductRoute /> },
          { path: 'products/:productId', element: <AdminProductRoute /> },
          { path: 'low-stock', element: <AdminLowStockRoute /> },
          { path: 'orders', element: <AdminOrdersRoute /> },
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
