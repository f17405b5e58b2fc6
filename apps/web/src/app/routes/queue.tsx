import type { Product } from '@stampede/contract';
import { useParams } from 'react-router';
import { EmptyState } from '@/components/ui/states';
import { AddToCart } from '@/features/cart/components/add-to-cart';
import { useProduct } from '@/features/products/api/get-product';
import { useProductStock } from '@/features/products/api/get-product-stock';
import { useLiveSale } from '@/features/products/hooks/use-live-sale';
import { WaitingRoom } from '@/features/queue/components/waiting-room';
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
  useProductStock({ productId, queryConfig: { refetchOnWindowFocus: false } });
  const data = product.data;
  return (
    <WaitingRoom
      productId={productId}
      productName={data?.name}
      renderBuy={
        data ? () => <AdmittedBuy product={data} observedAt={product.dataUpdatedAt} /> : undefined
      }
    />
  );
}

/**
 * Mounted only for a buyer whose turn it is (a few at a time: the queue admits no more than the
 * units left can serve), so its live stock poll costs little, and a stock read while the sale
 * was sold out does not keep "Buy now" disabled once units came back and the turn came.
 */
function AdmittedBuy({ product, observedAt }: { product: Product; observedAt: number }) {
  const sale = useLiveSale(product, observedAt);
  return <AddToCart product={product} phase={sale.phase} variant="page" />;
}
