/**
 * Just enough of PromQL to list the series selectors of an expression: each metric name with its
 * label matchers. Functions, aggregations, keywords, grouping lists, ranges, numbers and strings
 * are skipped. Grafana's `$__rate_interval`-style variables are read as a duration.
 */

export interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

export interface Selector {
  readonly metric: string;
  readonly matchers: readonly Matcher[];
}

const KEYWORDS = new Set([
  // aggregations
  'sum',
  'min',
  'max',
  'avg',
  'group',
  'stddev',
  'stdvar',
  'count',
  'count_values',
  'bottomk',
  'topk',
  'quantile',
  'limitk',
  'limit_ratio',
  // modifiers and operators
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'atan2',
  'inf',
  'nan',
]);
/** Keywords followed by a parenthesised label list, not an expression. */
const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

/** Grafana's template variables, replaced by a duration so the expression stays PromQL. */
export function withoutGrafanaVariables(expr: string): string {
  return expr.replace(/\$\{?__\w+\}?/g, '5m');
}

export function selectorsOf(rawExpr: string): Selector[] {
  const expr = withoutGrafanaVariables(rawExpr);
  const selectors: Selector[] = [];
  let i = 0;
  const skipSpace = () => {
    while (i < expr.length && /\s/.test(expr[i]!)) i += 1;
  };
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === '"' || c === "'" || c === '`') {
      i = endOfString(expr, i);
      continue;
    }
    if (c === '[') {
      i = expr.indexOf(']', i) + 1;
      continue;
    }
    if (/[0-9.]/.test(c)) {
      i += /^[0-9.]+(e[+-]?\d+)?[a-z]*/i.exec(expr.slice(i))![0].length;
      continue;
    }
    if (c === '{') {
      throw new Error(`selector without a metric name in: ${rawExpr}`);
    }
    const word = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i))?.[0];
    if (!word) {
      i += 1;
      continue;
    }
    i += word.length;
    skipSpace();
    if (KEYWORDS.has(word)) {
      if (GROUPING.has(word) && expr[i] === '(') i = expr.indexOf(')', i) + 1;
      continue;
    }
    if (expr[i] === '(') continue; // a function call
    const matchers: Matcher[] = [];
    if (expr[i] === '{') {
      i += 1;
      for (;;) {
        skipSpace();
        if (expr[i] === '}') {
          i += 1;
          break;
        }
        const label = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(expr.slice(i))?.[0];
        if (!label) throw new Error(`bad matcher at ${i} in: ${rawExpr}`);
        i += label.length;
        skipSpace();
        const op = /^(=~|!~|!=|=)/.exec(expr.slice(i))![0] as Matcher['op'];
        i += op.length;
        skipSpace();
        const end = endOfString(expr, i);
        const value = expr.slice(i + 1, end - 1).replace(/\\(.)/g, '$1');
        matchers.push({ label, op, value });
        i = end;
        skipSpace();
        if (expr[i] === ',') i += 1;
      }
    }
    selectors.push({ metric: word, matchers });
  }
  return selectors;
}

function endOfString(expr: string, start: number): number {
  const quote = expr[start]!;
  let i = start + 1;
  while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
  if (i >= expr.length) throw new Error(`unterminated string in: ${expr}`);
  return i + 1;
}
