import type { Product } from '@stampede/contract';
import { Link } from 'react-router';
import type { ApiError } from '@/api/api-error';
import { buttonClasses } from '@/components/ui/button';
import { ProductImage } from '@/components/ui/product-image';
import { QuantityStepper } from '@/components/ui/quantity-stepper';
import { EmptyState, Skeleton } from '@/components/ui/states';
import { lineLimit, useCartStore } from '@/store/cart-store';
import { formatMoney } from '@/utils/format';
import { paths } from '@/utils/paths';

/** A cart line with what the product query knows about it (supplied by the page). */
export type CartItem = {
  productId: number;
  quantity: number;
  product: Product | undefined;
  isLoading: boolean;
  error: ApiError | null;
};

export function CartView({ items }: { items: CartItem[] }) {
  const setQuantity = useCartStore((state) => state.setQuantity);
  const remove = useCartStore((state) => state.remove);

  if (items.length === 0) {
    return (
      <EmptyState
        title="Your cart is empty"
        action={
          <Link to={paths.home} className={buttonClasses({ size: 'md' })}>
            Browse today&apos;s sales
          </Link>
        }
      >
        Drops sell out in seconds. Add something while it&apos;s live.
      </EmptyState>
    );
  }

  return (
    <ul
      className="divide-y divide-border rounded-[var(--radius-card)] border border-border bg-card shadow-sm"
      aria-label="Cart"
    >
      {items.map((item) => (
        <li key={item.productId} className="flex gap-4 p-4" data-testid="cart-line">
          {item.isLoading ? (
            <>
              <Skeleton className="size-20 shrink-0 rounded-lg" />
              <div className="flex flex-1 flex-col gap-2">
                <Skeleton className="h-4 w-1/2" />
                <Skeleton className="h-3 w-1/4" />
              </div>
            </>
          ) : !item.product ? (
            <div className="flex flex-1 items-center justify-between gap-4">
              <div>
                <p className="font-semibold">Product #{item.productId}</p>
                <p className="text-sm text-destructive">
                  {item.error?.code === 'product_not_found'
                    ? 'No longer on sale.'
                    : 'Could not load this product.'}
                </p>
              </div>
              <button
                type="button"
                className="text-sm font-semibold text-muted-foreground hover:text-destructive"
                onClick={() => remove(item.productId)}
              >
                Remove
              </button>
            </div>
          ) : (
            <CartLineRow
              item={item}
              product={item.product}
              onQuantity={(quantity) =>
                setQuantity({
                  productId: item.productId,
                  quantity,
                  maxPerUser: item.product?.sale?.max_per_user,
                })
              }
              onRemove={() => remove(item.productId)}
            />
          )}
        </li>
      ))}
    </ul>
  );
}

function CartLineRow({
  item,
  product,
  onQuantity,
  onRemove,
}: {
  item: CartItem;
  product: Product;
  onQuantity: (quantity: number) => void;
  onRemove: () => void;
}) {
  const limit = lineLimit(product.sale?.max_per_user);
  return (
    <>
      <Link to={paths.product(product.id)} className="shrink-0" tabIndex={-1} aria-hidden>
        <ProductImage src={product.image_url} alt="" className="size-20 rounded-lg" />
      </Link>
      <div className="flex min-w-0 flex-1 flex-col gap-2 sm:flex-row sm:items-center sm:justify-between">
        <div className="min-w-0">
          <Link to={paths.product(product.id)} className="font-semibold hover:text-primary">
            {product.name}
          </Link>
          <p className="tabular text-sm text-muted-foreground">
            {formatMoney(product.price_cents, product.currency)} each
            {product.sale?.max_per_user ? ` · limit ${product.sale.max_per_user}` : ''}
          </p>
        </div>
        <div className="flex items-center gap-4">
          <QuantityStepper
            label={`Quantity of ${product.name}`}
            value={item.quantity}
            max={limit}
            onChange={onQuantity}
          />
          <p className="tabular w-24 text-right font-semibold">
            {formatMoney(product.price_cents * item.quantity, product.currency)}
          </p>
          <button
            type="button"
            onClick={onRemove}
            className="rounded-md p-1 text-muted-foreground hover:bg-muted hover:text-destructive"
            aria-label={`Remove ${product.name}`}
          >
            <svg viewBox="0 0 24 24" className="size-5" fill="none" aria-hidden>
              <path
                d="M6 6l12 12M18 6 6 18"
                stroke="currentColor"
                strokeWidth="2"
                strokeLinecap="round"
              />
            </svg>
          </button>
        </div>
      </div>
    </>
  );
}
