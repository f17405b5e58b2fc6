import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { analyseProfile, readProfile, type ProfileAnalysis } from './profile.ts';
import type { Progress } from './progress.ts';
import { runMode } from './run-mode.ts';
import type { Scenario } from './scenario.ts';
import { MODES, type ServerOptions } from './servers.ts';

/**
 * The `redis` mode again, under `node --cpu-prof`, through the rush and the ramp past
 * saturation; the profile is cut to each of those windows and summarised.
 * (Profiling slows the server a little, so this run's numbers are not the mode's results.)
 */
export interface PhaseProfile extends ProfileAnalysis {
  readonly offered_per_s: number;
  readonly answered_per_s: number;
  readonly api_cpu_cores: number;
  readonly api_cpu_us_per_request: number;
  readonly outcomes: Record<string, number>;
}

/** `sold_out`: the ramp to saturation after the sell-out; `rush`: the sale opening, orders included. */
export interface ProfileSummary {
  readonly file: string;
  /** Phase windows in CLOCK_MONOTONIC microseconds (`profile.ts --from/--to` takes them). */
  readonly windows: Record<string, { from?: number; to?: number }>;
  readonly sold_out: PhaseProfile;
  readonly rush: PhaseProfile;
}

export async function runProfile(input: {
  scenario: Scenario;
  options: ServerOptions;
  progress: Progress;
  outDir: string;
}): Promise<ProfileSummary> {
  const dir = join(input.options.runDir, 'cpu-profile');
  mkdirSync(dir, { recursive: true });
  const spec = MODES.find((m) => m.name === 'redis')!;
  const windows = new Map<string, { from?: number; to?: number }>();
  const hr = () => Number(process.hrtime.bigint() / 1000n);
  const result = await runMode(
    spec,
    input.scenario,
    { ...input.options, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${dir}`] },
    input.progress,
    {
      loadOnly: true,
      onPhase: (name, edge) => {
        const window = windows.get(name) ?? {};
        if (edge === 'start') window.from = hr();
        else window.to = hr();
        windows.set(name, window);
      },
    },
  );
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) throw new Error(`no .cpuprofile written in ${dir}`);
  const file = join(dir, files[0]!);
  const profile = readProfile(file);
  const phaseProfile = (name: string): PhaseProfile => {
    const phase = result.phases[name]!;
    const seconds = phase.duration_ms / 1000;
    const answered = phase.answered_per_s * seconds;
    return {
      offered_per_s: phase.offered_per_s,
      answered_per_s: phase.answered_per_s,
      api_cpu_cores: phase.cpu_cores.api,
      api_cpu_us_per_request: Math.round(
        (phase.cpu_cores.api * seconds * 1e6) / Math.max(answered, 1),
      ),
      outcomes: phase.outcomes,
      ...analyseProfile(profile, windows.get(name) ?? {}),
    };
  };
  // The raw profile, for Chrome DevTools / speedscope (not committed: it is large).
  mkdirSync(input.outDir, { recursive: true });
  const kept = join(input.outDir, `redis-${input.scenario.name}.cpuprofile`);
  copyFileSync(file, kept);
  return {
    file: kept,
    windows: Object.fromEntries(windows),
    sold_out: phaseProfile('ramp'),
    rush: phaseProfile('rush'),
  };
}
