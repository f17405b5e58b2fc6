import type { Product } from '@stampede/contract';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { Button, ReasonButton } from '@/components/ui/button';
import { QuantityStepper } from '@/components/ui/quantity-stepper';
import { lineLimit, useCartStore } from '@/store/cart-store';
import { paths } from '@/utils/paths';
import { purchaseBlockedReason, type SalePhase } from '@/utils/sale-phase';

/**
 * The buy control of a product: quantity, "Add to cart" and, on the product page, "Buy now".
 * Disabled states always say why in visible text.
 */
export function AddToCart({
  product,
  phase,
  variant = 'card',
}: {
  product: Product;
  phase: SalePhase;
  variant?: 'card' | 'page';
}) {
  const navigate = useNavigate();
  const inCart = useCartStore(
    (state) => state.lines.find((line) => line.productId === product.id)?.quantity ?? 0,
  );
  const add = useCartStore((state) => state.add);
  const limit = lineLimit(product.sale?.max_per_user);
  const room = Math.max(0, limit - inCart);
  const [quantity, setQuantity] = useState(1);
  const [notice, setNotice] = useState<string | null>(null);
  const wanted = Math.min(Math.max(1, quantity), Math.max(1, room));

  const phaseReason = purchaseBlockedReason(phase);
  const reason =
    phaseReason ??
    (room === 0
      ? product.sale?.max_per_user
        ? `Your cart already holds the limit of ${limit} per customer`
        : `Your cart already holds the most one order can (${limit})`
      : null);

  const addToCart = () => {
    const result = add({
      productId: product.id,
      quantity: wanted,
      maxPerUser: product.sale?.max_per_user,
    });
    if (!result.ok) {
      setNotice(
        result.reason === 'too_many_lines'
          ? `An order holds at most ${result.limit} different products.`
          : `Limit of ${result.limit} per customer reached.`,
      );
      return false;
    }
    setNotice(result.clamped ? `Added up to the limit of ${limit}.` : null);
    setQuantity(1);
    return true;
  };

  if (variant === 'card') {
    return (
      <div className="flex flex-col gap-2">
        <ReasonButton
          block
          variant={phase === 'live' ? 'primary' : 'outline'}
          disabledReason={reason}
          onClick={addToCart}
        >
          Add to cart
        </ReasonButton>
        {inCart > 0 && (
          <Link
            to={paths.cart}
            className="text-center text-xs font-semibold text-primary hover:underline"
          >
            {inCart} in your cart · View cart
          </Link>
        )}
        {notice && (
          <p className="text-xs text-warning" role="status">
            {notice}
          </p>
        )}
      </div>
    );
  }

  return (
    <div className="flex flex-col gap-3">
      {!reason && (
        <div className="flex items-center gap-3">
          <QuantityStepper
            label="Quantity"
            value={wanted}
            max={room}
            onChange={(next) => setQuantity(Math.min(Math.max(1, next), room))}
          />
          <span className="text-xs text-muted-foreground">
            {product.sale?.max_per_user ? `Up to ${room} more for you` : `Up to ${room} per order`}
          </span>
        </div>
      )}
      <div className={reason ? 'flex flex-col gap-2' : 'grid gap-2 sm:grid-cols-2'}>
        <ReasonButton
          size="lg"
          block
          disabledReason={reason}
          onClick={() => {
            if (addToCart()) void navigate(paths.cart);
          }}
        >
          Buy now
        </ReasonButton>
        {!reason && (
          <Button size="lg" variant="outline" block onClick={addToCart}>
            Add to cart
          </Button>
        )}
      </div>
      {inCart > 0 && (
        <p className="text-sm">
          <Link to={paths.cart} className="font-semibold text-primary hover:underline">
            {inCart} in your cart · Go to checkout
          </Link>
        </p>
      )}
      {notice && (
        <p className="text-sm text-warning" role="status">
          {notice}
        </p>
      )}
    </div>
  );
}
