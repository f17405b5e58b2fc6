import calculateSlot from 'cluster-key-slot';

/**
 * Every Redis key of the stock path. All keys of one product share the hash tag `{p:<id>}` and
 * all keys of one user share `{u:<id>}`, so each gate script touches a single cluster slot. A
 * product split over k stock buckets keeps bucket 0's counter, its cap table and its sync
 * versions under `{p:<id>}`; bucket b's counter and holds are under a tag of their own, chosen
 * so that the k buckets' slots lie apart: the slot space is cut in k equal ranges (as a cluster
 * of k masters shares it by default), bucket 0 lies in one, bucket b in the b-th range after
 * it. On a cluster whose masters share the slots evenly, k buckets for k masters land on k
 * masters.
 */
export interface StockKeys {
  stock(productId: number): string;
  holds(productId: number): string;
  cap(productId: number): string;
  /** The `stock.version` the last sync read, and the one whose caps it rebuilt. */
  synced(productId: number): string;
  rateLimit(userId: number): string;
  idempotency(userId: number, key: string): string;
  /** Present while the gate's data is intact; its absence means Redis lost its data. */
  epoch(): string;
  /** A lease one process takes to run a shared job (the sweep) this round. */
  lease(name: string): string;
  /** The pub/sub channel on which units returned to sale are announced (a product id). */
  returnedChannel(): string;
  /** Bucket `bucket` of `buckets`'s counter (bucket 0's is `stock`, in every split). */
  bucketStock(productId: number, bucket: number, buckets: number): string;
  /**
   * The holds of units taken from bucket `bucket` of `buckets`. Bucket 0's are apart from
   * `holds`, which keeps the holds of lines taken whole (each with its cap units), so that a
   * hold's kind is known by where it lies while a product's split changes.
   */
  bucketHolds(productId: number, bucket: number, buckets: number): string;
  /** The cap units each reservation of a bucketed product holds (on the base slot). */
  capHolds(productId: number): string;
}

const SLOTS = 16384;

export function stockKeys(prefix: string): StockKeys {
  const tags = new Map<string, string>();
  /** Bucket b's hash tag: the first `{p:<id>:<b>/<k>:<n>}` whose slot lies in its range. */
  const bucketTag = (productId: number, bucket: number, buckets: number): string => {
    if (bucket === 0) return `{p:${productId}}`;
    const id = `${productId}:${bucket}/${buckets}`;
    let tag = tags.get(id);
    if (tag) return tag;
    // The slot space cut in k equal ranges, as a cluster of k masters shares it by default:
    // bucket 0 lies in one; bucket b takes the b-th range after that one.
    const width = SLOTS / buckets;
    const range = (Math.floor(calculateSlot(`{p:${productId}}`) / width) + bucket) % buckets;
    const [from, to] = [Math.ceil(range * width), Math.ceil((range + 1) * width)];
    for (let n = 0; ; n += 1) {
      const candidate = `{p:${id}:${n}}`;
      const slot = calculateSlot(candidate);
      if (slot >= from && slot < to) {
        tag = candidate;
        break;
      }
    }
    tags.set(id, tag);
    return tag;
  };
  return {
    stock: (productId) => `${prefix}{p:${productId}}:stock`,
    holds: (productId) => `${prefix}{p:${productId}}:holds`,
    cap: (productId) => `${prefix}{p:${productId}}:cap`,
    synced: (productId) => `${prefix}{p:${productId}}:synced`,
    rateLimit: (userId) => `${prefix}{u:${userId}}:rl`,
    idempotency: (userId, key) => `${prefix}{u:${userId}}:idem:${key}`,
    epoch: () => `${prefix}{gate}:epoch`,
    lease: (name) => `${prefix}lease:${name}`,
    returnedChannel: () => `${prefix}stock:returned`,
    bucketStock: (productId, bucket, buckets) =>
      `${prefix}${bucketTag(productId, bucket, buckets)}:stock`,
    bucketHolds: (productId, bucket, buckets) =>
      bucket === 0
        ? `${prefix}{p:${productId}}:holds:split`
        : `${prefix}${bucketTag(productId, bucket, buckets)}:holds`,
    capHolds: (productId) => `${prefix}{p:${productId}}:capholds`,
  };
}
