/** One route's requests in flight at a moment. */
export interface InFlightRoute {
  readonly method: string;
  readonly route: string;
  readonly count: number;
  readonly oldestAgeSeconds: number;
}

interface Started {
  readonly method: string;
  readonly route: string;
  readonly at: number;
}

/**
 * Requests received and not answered yet, keyed by the request object. A `Map` keeps insertion
 * order, so the first entry of a route is its oldest. Adding and removing cost one map operation
 * per request; the grouping is done only when `/metrics` is scraped.
 */
export class InFlightRequests {
  private readonly started = new Map<object, Started>();

  add(request: object, method: string, route: string): void {
    this.started.set(request, { method, route, at: performance.now() });
  }

  /** True when the request was still in flight (the first of an answer and a hang-up wins). */
  delete(request: object): boolean {
    return this.started.delete(request);
  }

  summary(now = performance.now()): InFlightRoute[] {
    const routes = new Map<string, { method: string; route: string; count: number; at: number }>();
    for (const { method, route, at } of this.started.values()) {
      const key = `${method} ${route}`;
      const entry = routes.get(key);
      if (entry) entry.count += 1;
      else routes.set(key, { method, route, count: 1, at });
    }
    return [...routes.values()].map(({ method, route, count, at }) => ({
      method,
      route,
      count,
      oldestAgeSeconds: Math.max(0, (now - at) / 1000),
    }));
  }
}
