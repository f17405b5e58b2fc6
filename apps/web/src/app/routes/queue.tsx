import { useParams } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { AddToCart } from '@/features/cart/components/add-to-cart';
import { useProduct } from '@/features/products/api/get-product';
import { useProductStock } from '@/features/products/api/get-product-stock';
import { WaitingRoom } from '@/features/queue/components/waiting-room';
import { useServerTime } from '@/hooks/use-server-time';
import { getSalePhase } from '@/utils/sale-phase';
import { parseIdParam } from './parse-id-param';

export function QueueRoute() {
  const productId = parseIdParam(useParams().productId);
  if (productId === null) return <EmptyState title="This waiting room does not exist" />;
  return <QueuePage key={productId} productId={productId} />;
}

/** The waiting room, with the product's name and, once it is the buyer's turn, its buy control. */
function QueuePage({ productId }: { productId: number }) {
  const product = useProduct({ productId });
  // Read once, not polled: it sets the server clock the countdowns run on, and a crowd of
  // waiting buyers must not poll stock beside their status.
  const stock = useProductStock({ productId, queryConfig: { refetchOnWindowFocus: false } });
  const data = product.data;
  const available = stock.data?.available ?? data?.available ?? 0;
  const phase = useServerTime((now) =>
    data ? getSalePhase({ sale: data.sale, available }, now) : 'live',
  );
  return (
    <WaitingRoom
      productId={productId}
      productName={data?.name}
      renderBuy={data ? () => <AddToCart product={data} phase={phase} variant="page" /> : undefined}
    />
  );
}
