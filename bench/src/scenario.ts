/** The flash-sale scenario, full and quick (the same phases, scaled down). */
export interface Scenario {
  readonly name: 'full' | 'quick' | 'big-rush';
  /** Units of the hot product (S) and distinct buyers (B). */
  readonly units: number;
  readonly buyers: number;
  /** ORDER_RATE_LIMIT_MS given to the API; buyers are reused no faster than B / rate. */
  readonly rateLimitMs: number;
  readonly client: {
    readonly connections: number;
    readonly pipelining: number;
    readonly timeoutMs: number;
    readonly maxInFlight: number;
  };
  /** JIT and pool warm-up on a separate product and separate buyers; not measured. */
  readonly warmup: {
    readonly rate: number;
    readonly durationMs: number;
    readonly units: number;
    readonly buyers: number;
  };
  /** The sale opens: a constant stampede on the hot product (S units sell here). */
  readonly rush: { readonly rate: number; readonly durationMs: number };
  /** Sold out: arrivals ramped geometrically, step by step, until answers fall behind. */
  readonly ramp: {
    readonly startRate: number;
    readonly factor: number;
    readonly stepMs: number;
    readonly maxRate: number;
    /** A step whose answers/s fall below this share of the offered rate is saturated. */
    readonly saturatedBelow: number;
  };
  /** Constant arrivals at a share of the saturating rate (the "80%" latency target). */
  readonly steady: { readonly share: number; readonly durationMs: number };
  /**
   * Browse storm during a second sale: product-list and stock polls at a share of the saturating
   * rate, while buyers order a second product (attempts = `orderAttemptsPerUnit` x its units).
   */
  readonly storm: {
    readonly durationMs: number;
    readonly units: number;
    readonly orderAttemptsPerUnit: number;
    readonly readShare: number;
    /** Of the reads, this share is GET /api/products (the rest is stock polling). */
    readonly listShare: number;
  };
  readonly windowMs: number;
  readonly pauseMs: number;
}

export const FULL: Scenario = {
  name: 'full',
  units: 1000,
  buyers: 20_000,
  rateLimitMs: 1000,
  client: { connections: 128, pipelining: 1, timeoutMs: 20_000, maxInFlight: 20_000 },
  warmup: { rate: 1000, durationMs: 5000, units: 50, buyers: 3500 },
  rush: { rate: 3000, durationMs: 3000 },
  ramp: { startRate: 500, factor: 1.3, stepMs: 2000, maxRate: 60_000, saturatedBelow: 0.85 },
  steady: { share: 0.8, durationMs: 5000 },
  storm: { durationMs: 5000, units: 200, orderAttemptsPerUnit: 3, readShare: 0.5, listShare: 0.1 },
  windowMs: 250,
  pauseMs: 1200,
};

export const QUICK: Scenario = {
  name: 'quick',
  units: 200,
  buyers: 2000,
  // 2,000 buyers reused no faster than every 100 ms: up to 20,000 attempts/s without a 429.
  rateLimitMs: 100,
  client: { connections: 128, pipelining: 1, timeoutMs: 10_000, maxInFlight: 10_000 },
  warmup: { rate: 800, durationMs: 800, units: 20, buyers: 450 },
  rush: { rate: 3000, durationMs: 700 },
  ramp: { startRate: 2000, factor: 1.8, stepMs: 400, maxRate: 60_000, saturatedBelow: 0.85 },
  steady: { share: 0.8, durationMs: 700 },
  storm: { durationMs: 600, units: 40, orderAttemptsPerUnit: 3, readShare: 0.5, listShare: 0.1 },
  windowMs: 200,
  pauseMs: 150,
};

/**
 * The sell-out capacity (issue 16): 10,000 units and 20,000 buyers, the rush offered at 8,000
 * attempts/s for 2.5 s (each buyer once), so that orders/s is limited by the system and not by
 * the schedule (the other scenarios offer 3,000/s, which caps orders/s at 3,000). The phases
 * after the sale are the quick run's, scaled for 20,000 buyers.
 */
export const BIG_RUSH: Scenario = {
  name: 'big-rush',
  units: 10_000,
  buyers: 20_000,
  // 20,000 buyers reused no faster than every 500 ms: up to 40,000 attempts/s without a 429.
  rateLimitMs: 500,
  client: { connections: 128, pipelining: 1, timeoutMs: 20_000, maxInFlight: 25_000 },
  warmup: { rate: 1000, durationMs: 1500, units: 50, buyers: 1600 },
  rush: { rate: 8000, durationMs: 2500 },
  ramp: { startRate: 2000, factor: 1.8, stepMs: 500, maxRate: 60_000, saturatedBelow: 0.85 },
  steady: { share: 0.8, durationMs: 1000 },
  storm: { durationMs: 800, units: 100, orderAttemptsPerUnit: 3, readShare: 0.5, listShare: 0.1 },
  windowMs: 250,
  pauseMs: 500,
};

export const SCENARIOS: Record<Scenario['name'], Scenario> = {
  full: FULL,
  quick: QUICK,
  'big-rush': BIG_RUSH,
};
