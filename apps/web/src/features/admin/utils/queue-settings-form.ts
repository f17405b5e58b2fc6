import { QueueSettingsInput, type QueueView } from '@stampede/contract';
import type { FieldErrors } from '@/utils/form-errors';

/** What the operator types, as typed: validated into QueueSettingsInput on submit. */
export type QueueFormState = {
  enabled: boolean;
  opensBeforeSeconds: string;
  admitPerMinute: string;
  maxActive: string;
  inventoryFactor: string;
  passTtlSeconds: string;
};

/** A product that never had a queue starts from these. */
export const DEFAULT_QUEUE_SETTINGS: QueueSettingsInput = {
  enabled: false,
  opens_before_seconds: 900,
  admit_per_minute: 60,
  max_active: null,
  inventory_factor: 1,
  pass_ttl_seconds: 300,
  paused: false,
};

/** The settings part of a view (the figures left out), e.g. to send it back with one change. */
export function settingsOf(view: QueueView): QueueSettingsInput {
  return {
    enabled: view.enabled,
    opens_before_seconds: view.opens_before_seconds,
    admit_per_minute: view.admit_per_minute,
    max_active: view.max_active,
    inventory_factor: view.inventory_factor,
    pass_ttl_seconds: view.pass_ttl_seconds,
    paused: view.paused,
  };
}

export function toQueueFormState(settings: QueueSettingsInput): QueueFormState {
  return {
    enabled: settings.enabled,
    opensBeforeSeconds: String(settings.opens_before_seconds),
    admitPerMinute: String(settings.admit_per_minute),
    maxActive: settings.max_active === null ? '' : String(settings.max_active),
    inventoryFactor: String(settings.inventory_factor),
    passTtlSeconds: String(settings.pass_ttl_seconds),
  };
}

/** The message each field shows, whatever was wrong with it: what it accepts. */
export const QUEUE_FIELD_MESSAGES: Record<
  Exclude<keyof QueueSettingsInput, 'enabled' | 'paused'>,
  string
> = {
  opens_before_seconds: 'A whole number of seconds from 0 to 604,800 (7 days).',
  admit_per_minute: 'A whole number of buyers from 1 to 1,000,000.',
  max_active: 'Empty for no cap, or a whole number from 1 to 1,000,000.',
  inventory_factor: 'A number from 1 to 10, such as 1 or 1.5.',
  pass_ttl_seconds: 'A whole number of seconds from 30 to 3,600.',
};

const whole = (text: string) => (/^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN);
const decimal = (text: string) =>
  /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;

/**
 * The form as the API body, or what is wrong with it, field by field (keyed by the contract's
 * field names, as the server's validation_failed answer is). `paused` is not in the form: it
 * is the live value, switched by its own button, so saving the rates never resumes a pause.
 */
export function parseQueueForm(
  state: QueueFormState,
  paused: boolean,
): { ok: true; input: QueueSettingsInput } | { ok: false; errors: FieldErrors } {
  const body = {
    enabled: state.enabled,
    opens_before_seconds: whole(state.opensBeforeSeconds),
    admit_per_minute: whole(state.admitPerMinute),
    max_active: state.maxActive.trim() === '' ? null : whole(state.maxActive),
    inventory_factor: decimal(state.inventoryFactor),
    pass_ttl_seconds: whole(state.passTtlSeconds),
    paused,
  };
  const parsed = QueueSettingsInput.safeParse(body);
  if (parsed.success) return { ok: true, input: parsed.data };
  const errors: FieldErrors = {};
  for (const issue of parsed.error.issues) {
    const field = String(issue.path[0] ?? 'form');
    errors[field] ??=
      QUEUE_FIELD_MESSAGES[field as keyof typeof QUEUE_FIELD_MESSAGES] ?? issue.message;
  }
  return { ok: false, errors };
}

/** "15 min", "1 h 30 min", "45 s": the hint beside a field in seconds. */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '';
  if (seconds < 60) return `${seconds} s`;
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts = [
    days ? `${days} d` : '',
    hours ? `${hours} h` : '',
    minutes ? `${minutes} min` : '',
    rest ? `${rest} s` : '',
  ];
  return parts.filter(Boolean).join(' ');
}
