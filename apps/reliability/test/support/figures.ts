import { appendFileSync } from "node:fs";

/** What every scenario reports (docs/reliability.md quotes them). */
export interface Figures {
  /** Events the clients tried to send. */
  readonly sent: number;
  /** Events answered as stored (201, or an accepted record of a 207). */
  readonly acknowledged: number;
  /** Rows in `events` afterwards. */
  readonly stored: number;
  /** Deliveries completed (distinct webhook-ids received), or undefined when the scenario routes nowhere. */
  readonly delivered: number | undefined;
  /** Events stored twice (should be 0), plus webhooks received again with a webhook-id already seen. */
  readonly duplicates: number;
  /** The scenario's latency that matters most, named in `extra` (ingestion or delivery). */
  readonly maxLatencyMs: number;
  /** Highest VmHWM of any server or worker process of the scenario. */
  readonly peakRssBytes: number;
  /** Scenario-specific figures, in print order. */
  readonly extra: Readonly<Record<string, string | number>>;
  /**
   * Every timed (or sized) bound the scenario asserts, as measured against its limit: printed with the share
   * of the limit used, and kept in the JSON line so that a spread over many runs can be read off.
   */
  readonly bounds?: Readonly<Record<string, Bound>>;
}

/** A measured value and the most it may be. */
export interface Bound {
  readonly value: number;
  readonly limit: number;
}

/**
 * Prints the figures as one block, and appends them as a JSON line to `SWITCHYARD_RELIABILITY_FIGURES`
 * when that names a file (how docs/reliability.md was written from a run).
 */
export function reportFigures(scenario: string, figures: Figures): void {
  const rows: Array<[string, string | number]> = [
    ["events sent", figures.sent],
    ["acknowledged", figures.acknowledged],
    ["stored", figures.stored],
    ["delivered", figures.delivered ?? "n/a"],
    ["duplicates", figures.duplicates],
    ["max latency (ms)", Math.round(figures.maxLatencyMs)],
    ["peak RSS (MiB)", mib(figures.peakRssBytes)],
    ...Object.entries(figures.extra),
    ...Object.entries(figures.bounds ?? {}).map(([name, { value, limit }]): [string, string] => [
      `bound: ${name}`,
      `${Math.round(value * 10) / 10} of ${limit} (${Math.round((100 * value) / limit)} %)`,
    ]),
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  console.log(`\n[reliability] ${scenario}\n${rows.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join("\n")}\n`);
  const file = process.env.SWITCHYARD_RELIABILITY_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify({ scenario, at: new Date().toISOString(), ...figures })}\n`);
}

export function mib(bytes: number): number {
  return Math.round((bytes / 1024 / 1024) * 10) / 10;
}
