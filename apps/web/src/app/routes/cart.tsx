import { useNavigate } from 'react-router';
import { CartView, type CartItem } from '@/features/cart/components/cart-view';
import { CheckoutPanel } from '@/features/checkout/components/checkout-panel';
import { useProductsById } from '@/features/products/api/get-product';
import { useCartStore } from '@/store/cart-store';
import { useIsSignedIn } from '@/store/session-store';
import { paths } from '@/utils/paths';

/** The cart and the checkout side by side; product data comes from the products feature. */
export function CartRoute() {
  const lines = useCartStore((state) => state.lines);
  const setQuantity = useCartStore((state) => state.setQuantity);
  const remove = useCartStore((state) => state.remove);
  const clear = useCartStore((state) => state.clear);
  const isSignedIn = useIsSignedIn();
  const navigate = useNavigate();
  const products = useProductsById(lines.map((line) => line.productId));

  const items: CartItem[] = lines.map((line, index) => {
    const query = products[index];
    return {
      productId: line.productId,
      quantity: line.quantity,
      product: query?.data,
      isLoading: query?.isPending ?? true,
      error: query?.error ?? null,
    };
  });

  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-extrabold tracking-tight">Your cart</h1>
      <div className="grid items-start gap-6 lg:grid-cols-[1fr_22rem]">
        <CartView items={items} />
        {lines.length > 0 && (
          <div className="lg:sticky lg:top-24">
            <CheckoutPanel
              lines={items}
              isSignedIn={isSignedIn}
              onOrderPlaced={(order) => {
                clear();
                void navigate(paths.order(order.id), { state: { justPlaced: true } });
              }}
              onFix={(fix) => {
                const product = items.find((item) => item.productId === fix.productId)?.product;
                if (fix.kind === 'remove') remove(fix.productId);
                else
                  setQuantity({
                    productId: fix.productId,
                    quantity: fix.quantity,
                    maxPerUser: product?.sale?.max_per_user,
                  });
              }}
            />
          </div>
        )}
      </div>
    </div>
  );
}
