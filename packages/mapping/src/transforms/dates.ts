import { isoDate, isoDateTime, isoOffset } from "./calendar.js";
import { parseMoment } from "./parseMoment.js";
import { Refusal, type TransformStep } from "./refusal.js";
import { instantOfWallTime, type TimeZone } from "./timeZone.js";

const outOfRange = new Refusal("the date is outside the years 0001 to 9999");

/**
 * to_date: the calendar date, `YYYY-MM-DD`, of the moment in `zone` (UTC when the transform names none). An
 * instant is converted (`2024-03-09T23:30:00Z` in `America/New_York` is `2024-03-09`, in `Asia/Tokyo`
 * `2024-03-10`); a date or date-time without an offset is already local, its date is kept.
 */
export function toDateStep(zone: TimeZone): TransformStep {
  return (value) => {
    const moment = parseMoment(value);
    if (moment instanceof Refusal) return moment;
    const local = moment.kind === "wall" ? moment.millis : localMillis(moment.millis, zone);
    return inRange(local) ? isoDate(local) : outOfRange;
  };
}

/**
 * to_datetime: the moment as an ISO 8601 date-time with milliseconds, written in `zone`'s local time with its
 * offset (`2024-03-09T15:05:09.000+01:00`), `Z` when the offset is zero (always, in UTC). A date or date-time
 * without an offset is read as local time in `zone` (a date alone: its midnight).
 */
export function toDateTimeStep(zone: TimeZone): TransformStep {
  return (value) => {
    const moment = parseMoment(value);
    if (moment instanceof Refusal) return moment;
    const instant = moment.kind === "wall" ? instantOfWallTime(moment.millis, zone) : moment.millis;
    if (!inRange(instant)) return outOfRange;
    const offset = zone.offsetAt(instant);
    const local = instant + offset;
    return inRange(local) ? `${isoDateTime(local)}${isoOffset(offset)}` : outOfRange;
  };
}

function localMillis(instant: number, zone: TimeZone): number {
  return inRange(instant) ? instant + zone.offsetAt(instant) : Number.NaN;
}

/** 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z: ISO 8601's four-digit years. */
const firstMillis = -62_135_596_800_000;
const endMillis = 253_402_300_800_000;

function inRange(millis: number): boolean {
  return millis >= firstMillis && millis < endMillis;
}
