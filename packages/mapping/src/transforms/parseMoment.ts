import { daysInMonth, utcMillis } from "./calendar.js";
import { expected, Refusal } from "./refusal.js";

/**
 * A point in time read from a value: an `instant` (milliseconds since the epoch), or a `wall` time with no
 * offset (a wall-clock time written as if UTC), which the zone of the transform places; `dateOnly` when the
 * value was a date alone.
 */
export type Moment =
  | { readonly kind: "instant"; readonly millis: number }
  | { readonly kind: "wall"; readonly millis: number; readonly dateOnly: boolean };

/** Epoch numbers below this magnitude are seconds, from it on milliseconds (1e11 s is the year 5138; 1e11 ms, 1973). */
export const epochSecondsBelow = 1e11;

const iso =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,9}))?)?(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?$/;

const notIso = new Refusal("the string is not an ISO 8601 date or date-time");
const notCalendar = new Refusal("the string is not a valid calendar date and time");
const notFiniteTime = new Refusal("the number is not a finite epoch time");
const invalidDate = new Refusal("the date object is invalid");

/**
 * Reads a moment: an ISO 8601 string (`2024-03-09`, `2024-03-09T14:05`, `2024-03-09T14:05:09.123Z`, `T` or a
 * space between date and time, seconds and fraction optional, offset `Z`, `±HH:MM`, `±HHMM` or `±HH`), a
 * number of seconds or milliseconds since the epoch (see `epochSecondsBelow`), or a `Date`.
 */
export function parseMoment(value: unknown): Moment | Refusal {
  if (typeof value === "string") return parseIso(value.trim());
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return notFiniteTime;
    return { kind: "instant", millis: Math.abs(value) < epochSecondsBelow ? value * 1000 : value };
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? invalidDate : { kind: "instant", millis: value.getTime() };
  return expected("an ISO 8601 string, an epoch number or a date", value);
}

function parseIso(text: string): Moment | Refusal {
  const match = iso.exec(text);
  if (match === null) return notIso;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  const hour = match[4] === undefined ? 0 : Number(match[4]);
  const minute = match[5] === undefined ? 0 : Number(match[5]);
  const second = match[6] === undefined ? 0 : Number(match[6]);
  const offsetHours = match[10] === undefined ? 0 : Number(match[10]);
  const offsetMinutes = match[11] === undefined ? 0 : Number(match[11]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return notCalendar;
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59) return notCalendar;
  const fraction = match[7];
  const ms = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * 1000);
  const wall = utcMillis(year, month, day, hour, minute, second, ms);
  const sign = match[9];
  if (match[8] !== undefined) return { kind: "instant", millis: wall };
  if (sign === undefined) return { kind: "wall", millis: wall, dateOnly: match[4] === undefined };
  const offset = (offsetHours * 60 + offsetMinutes) * 60_000;
  return { kind: "instant", millis: sign === "-" ? wall + offset : wall - offset };
}
