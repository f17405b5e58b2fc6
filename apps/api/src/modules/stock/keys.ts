/**
 * Every Redis key of the stock path. All keys of one product share the hash tag `{p:<id>}` and
 * all keys of one user share `{u:<id>}`, so each gate script touches a single cluster slot.
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
}

export function stockKeys(prefix: string): StockKeys {
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
  };
}
