import type { LiveTrafficPoint } from '@stampede/contract';
import { useState, type ReactNode } from 'react';
import { Link } from 'react-router';
import { Badge } from '@/components/ui/badge';
import { cn } from '@/utils/cn';
import { paths } from '@/utils/paths';
import { useLiveStream, type StreamStatus } from '../api/use-live-stream';
import { secondsOf, type LiveState } from '../utils/merge-live';
import { LineChart, type ChartSeries } from './line-chart';

/** Refusals in a stable order and colour, the usual ones of a sale first. */
const REFUSALS: [outcome: string, color: string][] = [
  ['sold_out', '#dc2626'],
  ['purchase_limit', '#d97706'],
  ['rate_limited', '#7c3aed'],
  ['sale_closed', '#0891b2'],
  ['stock_conflict', '#be185d'],
  ['stock_unavailable', '#4b5563'],
  ['error', '#111827'],
  ['not_found', '#65a30d'],
  ['invalid', '#a16207'],
  ['idempotency_conflict', '#0f766e'],
];

const SPANS = [
  { label: '1 min', seconds: 60 },
  { label: '2 min', seconds: 120 },
  { label: '10 min', seconds: 600 },
];

const seconds = (v: number) => (v < 1 ? `${Math.round(v * 1000)} ms` : `${v.toFixed(2)} s`);

function trafficSeries(state: LiveState, span: number) {
  const xs = secondsOf(state, span);
  const byT = new Map(state.traffic.map((point) => [point.t, point]));
  const column = (pick: (p: LiveTrafficPoint) => number | null, empty: number | null = 0) =>
    xs.map((t) => {
      const point = byT.get(t);
      return point ? pick(point) : empty;
    });
  const seen = new Set(state.traffic.flatMap((point) => Object.keys(point.refusals)));
  const refusals: ChartSeries[] = REFUSALS.filter(([outcome]) => seen.has(outcome)).map(
    ([outcome, color]) => ({
      name: outcome.replaceAll('_', ' '),
      color,
      values: column((p) => p.refusals[outcome] ?? 0),
    }),
  );
  return {
    xs,
    rates: [
      { name: 'attempts/s', color: '#2563eb', values: column((p) => p.attempts) },
      { name: 'orders/s', color: '#16a34a', values: column((p) => p.created) },
    ],
    refusals: refusals.length
      ? refusals
      : [{ name: 'none yet', color: '#9ca3af', values: column(() => 0) }],
    latency: [
      { name: 'p50', color: '#2563eb', values: column((p) => p.p50, null) },
      { name: 'p99', color: '#dc2626', values: column((p) => p.p99, null) },
    ],
  };
}

function StatusBadge({ status }: { status: StreamStatus }) {
  if (status === 'live') return <Badge tone="success">live · every second</Badge>;
  if (status === 'reconnecting') return <Badge tone="warning">reconnecting…</Badge>;
  return <Badge>connecting…</Badge>;
}

/**
 * The running sales as they happen: the order traffic of every API process over the last ten
 * minutes, and each sale's units sold and left. Streamed from the API, one update a second.
 */
export function LiveSaleCharts() {
  const { state, status } = useLiveStream();
  const [span, setSpan] = useState(SPANS[1]!.seconds);
  const chart = state ? trafficSeries(state, span) : undefined;
  return (
    <section aria-labelledby="live-charts-title" className="flex flex-col gap-4">
      <div className="flex items-center justify-between gap-3">
        <h2 id="live-charts-title" className="text-lg font-semibold">
          The sale, second by second{' '}
          <span className="text-sm font-normal text-muted-foreground">(all API processes)</span>
        </h2>
        <div className="flex items-center gap-3">
          <div role="group" aria-label="Time span" className="flex rounded-lg border border-border">
            {SPANS.map((option) => (
              <button
                key={option.seconds}
                type="button"
                aria-pressed={span === option.seconds}
                onClick={() => setSpan(option.seconds)}
                className={cn(
                  'px-2.5 py-1 text-xs font-medium first:rounded-l-lg last:rounded-r-lg',
                  span === option.seconds
                    ? 'bg-primary text-primary-foreground'
                    : 'text-muted-foreground hover:text-foreground',
                )}
              >
                {option.label}
              </button>
            ))}
          </div>
          <StatusBadge status={status} />
        </div>
      </div>
      {chart && state ? (
        <>
          <div className="grid gap-4 lg:grid-cols-3" data-testid="live-traffic">
            {[
              {
                title: 'Attempts and orders per second',
                series: chart.rates,
                testId: 'chart-rates',
              },
              {
                title: 'Refusals per second, by reason',
                series: chart.refusals,
                testId: 'chart-refusals',
              },
              {
                title: 'Answer latency (POST /api/orders)',
                series: chart.latency,
                testId: 'chart-latency',
                format: seconds,
                integer: false,
              },
            ].map((panel) => (
              <ChartCard key={panel.testId}>
                <LineChart xs={chart.xs} {...panel} />
              </ChartCard>
            ))}
          </div>
          {state.sales.length > 0 && (
            <div className="grid gap-4 md:grid-cols-2">
              {state.sales.map((sale) => {
                const xs = secondsOf(state, span);
                const sold: (number | null)[] = [];
                const left: (number | null)[] = [];
                let i = 0;
                let current: { sold: number; left: number } | null = null;
                for (const t of xs) {
                  while (i < sale.units.length && sale.units[i]!.t <= t) current = sale.units[i++]!;
                  sold.push(current?.sold ?? null);
                  left.push(current?.left ?? null);
                }
                return (
                  <ChartCard key={sale.product_id} label={`${sale.name} units`}>
                    <div className="mb-2 flex items-center justify-between gap-2">
                      <span className="truncate font-semibold">{sale.name}</span>
                      <span className="flex items-center gap-2 text-xs text-muted-foreground">
                        {sale.left === 0 && sale.sold_out_at ? (
                          <Badge tone="destructive">sold out</Badge>
                        ) : sale.sold_out_at ? (
                          <Badge tone="info">units back on sale</Badge>
                        ) : null}
                        <Link
                          to={paths.admin.saleReport(sale.product_id)}
                          className="font-medium text-primary hover:underline"
                        >
                          Report
                        </Link>
                      </span>
                    </div>
                    <LineChart
                      title="Units sold and left"
                      xs={xs}
                      testId="chart-units"
                      series={[
                        { name: 'sold', color: '#16a34a', values: sold, step: true },
                        { name: 'left', color: '#2563eb', values: left, step: true },
                      ]}
                    />
                  </ChartCard>
                );
              })}
            </div>
          )}
        </>
      ) : (
        <p className="text-sm text-muted-foreground">Waiting for the first numbers…</p>
      )}
    </section>
  );
}

function ChartCard({ children, label }: { children: ReactNode; label?: string }) {
  return (
    <div
      className="rounded-[var(--radius-card)] border border-border bg-card p-4 shadow-sm"
      aria-label={label}
    >
      {children}
    </div>
  );
}
