/** Milliseconds since the epoch of a UTC date and time; unlike `Date.UTC`, years 0–99 are not moved to 19xx. */
export function utcMillis(year: number, month: number, day: number, hour: number, minute: number, second: number, ms: number): number {
  if (year >= 100) return Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** `YYYY-MM-DD` of `millis` read as UTC (the caller has checked the year is 0001–9999). */
export function isoDate(millis: number): string {
  const days = Math.floor(millis / dayMillis);
  // Civil date from a day count (H. Hinnant's algorithm): plain arithmetic, several times faster than Date's formatting.
  const shifted = days + 719468;
  const era = Math.floor(shifted / 146097);
  const dayOfEra = shifted - era * 146097;
  const yearOfEra = Math.floor(
    (dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36524) - Math.floor(dayOfEra / 146096)) / 365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`;
}

/** `YYYY-MM-DDTHH:MM:SS.sss` of `millis` read as UTC (the caller has checked the year is 0001–9999). */
export function isoDateTime(millis: number): string {
  const inDay = millis - Math.floor(millis / dayMillis) * dayMillis;
  const ms = inDay % 1000;
  const seconds = Math.floor(inDay / 1000);
  const time = `${pad2(Math.floor(seconds / 3600))}:${pad2(Math.floor(seconds / 60) % 60)}:${pad2(seconds % 60)}`;
  return `${isoDate(millis)}T${time}.${ms < 10 ? "00" : ms < 100 ? "0" : ""}${ms}`;
}

const dayMillis = 86_400_000;

/** `Z` for a zero offset, else `±HH:MM`. */
export function isoOffset(offset: number): string {
  if (offset === 0) return "Z";
  const minutes = Math.abs(offset) / 60_000;
  return `${offset < 0 ? "-" : "+"}${pad2(Math.floor(minutes / 60))}:${pad2(minutes % 60)}`;
}

function pad2(value: number): string {
  return value < 10 ? `0${value}` : `${value}`;
}
