import { Link } from 'react-router';
import { Badge } from '@/components/ui/badge';
import { PageSpinner } from '@/components/ui/spinner';
import { ErrorState } from '@/components/ui/states';
import { formatDateTime } from '@/utils/format';
import { paths } from '@/utils/paths';
import { useSaleReport } from '../api/get-sale-report';

const count = (value: number) => value.toLocaleString('en-US');
const latency = (value: number | null) =>
  value === null ? '–' : value < 1 ? `${Math.round(value * 1000)} ms` : `${value.toFixed(2)} s`;
const duration = (totalSeconds: number) => {
  const s = Math.round(totalSeconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
};

/** How a sale went, for the operator after (or during) it. */
export function SaleReportView({ productId }: { productId: number }) {
  const report = useSaleReport({ productId });
  if (report.isPending) return <PageSpinner label="Loading the report" />;
  if (report.isError) {
    return <ErrorState error={report.error} onRetry={() => void report.refetch()} />;
  }
  const r = report.data;
  const refusals = Object.entries(r.traffic.refusals).sort(([, a], [, b]) => b - a);
  const figures: [label: string, value: string, testId: string][] = [
    [
      'Sell-out',
      r.sold_out_at
        ? `${duration(r.sell_out_seconds ?? 0)} after the start (${formatDateTime(r.sold_out_at)})`
        : 'not sold out',
      'report-sell-out',
    ],
    ['Orders', count(r.orders), 'report-orders'],
    ['Units sold', `${count(r.units_sold)} of ${count(r.stock_at_start)}`, 'report-units'],
    [
      'Peak attempts per second',
      r.traffic.peak_at
        ? `${count(r.traffic.peak_attempts_per_second)} at ${new Date(r.traffic.peak_at).toLocaleTimeString('en-US')}`
        : '–',
      'report-peak',
    ],
    [
      'Answer latency p50 / p99',
      `${latency(r.traffic.p50)} / ${latency(r.traffic.p99)}`,
      'report-p99',
    ],
    [
      'Units returned',
      `${count(r.units_returned.cancel)} by cancels, ${count(r.units_returned.expiry)} by expiries`,
      'report-returned',
    ],
  ];
  return (
    <section aria-labelledby="report-title" className="flex flex-col gap-5">
      <div className="flex flex-wrap items-center justify-between gap-3">
        <div>
          <h2 id="report-title" className="text-lg font-semibold">
            Sale report: {r.name}
          </h2>
          <p className="text-sm text-muted-foreground">
            {formatDateTime(r.starts_at)} to {formatDateTime(r.ends_at)}{' '}
            {r.running ? <Badge tone="success">still running</Badge> : <Badge>ended</Badge>}
          </p>
        </div>
        <Link to={paths.admin.root} className="text-sm font-medium text-primary hover:underline">
          Back to live sales
        </Link>
      </div>
      <dl className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3">
        {figures.map(([label, value, testId]) => (
          <div key={label} className="rounded-lg border border-border bg-card p-4 shadow-sm">
            <dt className="text-xs font-medium text-muted-foreground">{label}</dt>
            <dd className="tabular mt-1 text-lg font-bold" data-testid={testId}>
              {value}
            </dd>
          </div>
        ))}
      </dl>
      <div className="rounded-lg border border-border bg-card p-4 shadow-sm">
        <h3 className="mb-2 text-sm font-semibold">
          Attempts: {count(r.traffic.attempts)} · orders created: {count(r.traffic.created)}
        </h3>
        {refusals.length === 0 ? (
          <p className="text-sm text-muted-foreground">No refusals.</p>
        ) : (
          <table className="w-full text-sm" data-testid="report-refusals">
            <thead>
              <tr className="text-left text-xs text-muted-foreground">
                <th className="py-1 font-medium">Refused because</th>
                <th className="py-1 text-right font-medium">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {refusals.map(([reason, n]) => (
                <tr key={reason} className="border-t border-border">
                  <td className="py-1">{reason.replaceAll('_', ' ')}</td>
                  <td className="tabular py-1 text-right">{count(n)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {r.overlapping_sales > 0 && (
          <p className="mt-2 text-xs text-muted-foreground">
            {r.overlapping_sales} other sale(s) ran at the same time: attempts, refusals, peak and
            latency are the shop&apos;s over this window, shared with them.
          </p>
        )}
      </div>
    </section>
  );
}
