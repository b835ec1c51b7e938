import { utcMillis } from "./calendar.js";

/** A time zone: its offset from UTC, in milliseconds (whole minutes), at an instant. */
export interface TimeZone {
  readonly name: string;
  offsetAt(instant: number): number;
}

export const utc: TimeZone = Object.freeze({ name: "UTC", offsetAt: () => 0 });

/** Zones already resolved, by the name given; formatters are costly to make and a mapping names few zones. */
const resolved = new Map<string, TimeZone>();
const maxResolved = 1000;

/** The IANA time zone `name` (`Europe/Paris`, `UTC`), or `undefined` when the runtime does not know it. */
export function resolveTimeZone(name: string): TimeZone | undefined {
  const known = resolved.get(name);
  if (known !== undefined) return known;
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: name,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
  } catch {
    return undefined;
  }
  const zone = format.resolvedOptions().timeZone === "UTC" ? utc : intlZone(name, format);
  if (resolved.size < maxResolved) resolved.set(name, zone);
  return zone;
}

function intlZone(name: string, format: Intl.DateTimeFormat): TimeZone {
  return Object.freeze({
    name,
    offsetAt(instant: number): number {
      const second = Math.floor(instant / 1000) * 1000;
      const wall = wallClock(format.formatToParts(second));
      // Zones' old local mean times have offsets in seconds: rounded to the minute, as ISO 8601 writes them.
      return Math.round((wall - second) / 60_000) * 60_000;
    },
  });
}

/** The wall-clock time in `parts`, as if it were UTC, in milliseconds. */
function wallClock(parts: Intl.DateTimeFormatPart[]): number {
  let era = "AD";
  const fields = { year: 0, month: 1, day: 1, hour: 0, minute: 0, second: 0 };
  for (const part of parts) {
    if (part.type === "era") era = part.value;
    else if (part.type in fields) fields[part.type as keyof typeof fields] = Number(part.value);
  }
  const year = era === "BC" || era === "B" ? 1 - fields.year : fields.year;
  return utcMillis(year, fields.month, fields.day, fields.hour, fields.minute, fields.second, 0);
}

/**
 * The instant at which the clocks of `zone` show `wall` (a wall-clock time written as if UTC). In a
 * repeated hour (clocks set back) the first of the two; in a skipped hour (clocks set forward) the wall time is
 * read with the offset in force before the change, so it lands after the gap (02:30 → 03:30). Assumes at most
 * one change of offset within a day of `wall`, as in every zone's history.
 */
export function instantOfWallTime(wall: number, zone: TimeZone): number {
  const before = zone.offsetAt(wall - day);
  const after = zone.offsetAt(wall + day);
  const early = wall - Math.max(before, after);
  if (zone.offsetAt(early) === Math.max(before, after)) return early;
  const late = wall - Math.min(before, after);
  if (zone.offsetAt(late) === Math.min(before, after)) return late;
  return wall - before;
}

const day = 86_400_000;
