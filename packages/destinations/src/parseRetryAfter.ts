const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

const imfFixdate = /^[a-z]{3}, (\d{2}) ([a-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
const rfc850 = /^[a-z]{6,9}, (\d{2})-([a-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) gmt$/;
const asctime = /^[a-z]{3} ([a-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Reads a `Retry-After` value (RFC 9110 §10.2.3): a delay in whole seconds, or an HTTP date in any of the
 * three forms recipients must accept. Answers the delay from `now` in milliseconds, 0 for a date already
 * past, or undefined when the value is absent or malformed.
 */
export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    const ms = Number(text) * 1000;
    return Number.isSafeInteger(ms) ? ms : undefined;
  }
  const date = parseHttpDate(text.toLowerCase(), now);
  return date === undefined ? undefined : Math.max(0, date - now.getTime());
}

function parseHttpDate(text: string, now: Date): number | undefined {
  let m = imfFixdate.exec(text);
  if (m) return utc(Number(m[3]), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = rfc850.exec(text);
  if (m) return utc(fullYear(Number(m[3]), now), m[2], Number(m[1]), m[4], m[5], m[6]);
  m = asctime.exec(text);
  if (m) return utc(Number(m[6]), m[1], Number(m[2]?.trim()), m[3], m[4], m[5]);
  return undefined;
}

/** RFC 9110 §5.6.7: a two-digit year more than 50 years in the future means the most recent past such year. */
function fullYear(twoDigits: number, now: Date): number {
  const century = Math.floor(now.getUTCFullYear() / 100) * 100;
  const year = century + twoDigits;
  return year > now.getUTCFullYear() + 50 ? year - 100 : year;
}

function utc(year: number, monthName: string | undefined, day: number, h?: string, min?: string, s?: string): number | undefined {
  const month = months.indexOf(monthName ?? "");
  const [hours, minutes, seconds] = [Number(h), Number(min), Number(s)];
  if (month === -1 || day < 1 || day > 31 || hours > 23 || minutes > 59 || seconds > 60) return undefined;
  const time = Date.UTC(year, month, day, hours, minutes, seconds);
  // Date.UTC rolls 31 Feb over into March; such a date is malformed, not a day in March.
  return new Date(time).getUTCDate() === day ? time : undefined;
}
