// Dates and times the French way, in Europe/Paris whatever the device's zone.
const TZ = 'Europe/Paris';
const dateTime = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, dateStyle: 'short', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, hour: '2-digit', minute: '2-digit' });
const dayKey = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });
const dayMonth = new Intl.DateTimeFormat('fr-FR', { timeZone: TZ, day: '2-digit', month: '2-digit' });
const longDate = new Intl.DateTimeFormat('fr-FR', { timeZone: 'UTC', day: 'numeric', month: 'long', year: 'numeric' });

/** "14:05" today, "12/03/2026 14:05" otherwise. */
export function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return dayKey.format(d) === dayKey.format(new Date()) ? timeOnly.format(d) : dateTime.format(d);
}

/** For lists: "14:05" today, "24/11" otherwise. */
export function shortWhen(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  return dayKey.format(d) === dayKey.format(new Date()) ? timeOnly.format(d) : dayMonth.format(d);
}

export function dateAndTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : dateTime.format(d);
}

/** A calendar date (YYYY-MM-DD, no time zone) as "12 mars 1950". */
export function birthDate(ymd) {
  if (!ymd) return '';
  const d = new Date(`${ymd}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? ymd : longDate.format(d);
}

/** Today's date in Paris as YYYY-MM-DD (for date inputs). */
export function todayInParis() {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
  return parts;
}

/** The day after `day` (YYYY-MM-DD), for dates that must be after today. */
export function dayAfter(day) {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

/** "SOPHIE BERNARD" (as the national directory writes names) → "Sophie Bernard";
 *  names already in mixed case are left alone. */
export function personLabel(name) {
  if (!name || name !== name.toUpperCase()) return name || '';
  return name.toLowerCase().replace(/(^|[\s'’-])(\p{L})/gu, (_, sep, c) => sep + c.toUpperCase());
}
