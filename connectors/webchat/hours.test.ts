import { describe, expect, it } from 'vitest';
import { businessHoursOf, hoursStatus } from './hours.js';

const weekdays = (intervals: string[][]) => ({ mon: intervals, tue: intervals, wed: intervals, thu: intervals, fri: intervals });

describe('business hours', () => {
  const helsinki = businessHoursOf({ businessHours: { timeZone: 'Europe/Helsinki', days: weekdays([['09:00', '12:00'], ['13:00', '17:00']]) } })!;

  it('is open inside an interval in the zone, closed at lunch and says when it opens', () => {
    // Wednesday 2025-01-15 10:00 in Helsinki (UTC+2) is 08:00 UTC.
    expect(hoursStatus(helsinki, new Date('2025-01-15T08:00:00Z'))).toEqual({ open: true });
    expect(hoursStatus(helsinki, new Date('2025-01-15T10:30:00Z'))).toEqual({ open: false, nextOpen: new Date('2025-01-15T11:00:00Z') });
    // 17:00 is closing time; the next opening is Thursday 09:00.
    expect(hoursStatus(helsinki, new Date('2025-01-15T15:00:00Z'))).toEqual({ open: false, nextOpen: new Date('2025-01-16T07:00:00Z') });
  });

  it('skips the weekend and follows daylight saving time', () => {
    // Friday 2025-03-28 18:00 EET; Monday 2025-03-31 is after the switch to EEST (UTC+3).
    expect(hoursStatus(helsinki, new Date('2025-03-28T16:00:00Z'))).toEqual({ open: false, nextOpen: new Date('2025-03-31T06:00:00Z') });
    expect(hoursStatus(helsinki, new Date('2025-03-31T06:30:00Z')).open).toBe(true);
  });

  it('reads 24:00, drops bad intervals, falls back to UTC for an unknown zone or an offset and is always open without hours', () => {
    const allDay = businessHoursOf({ businessHours: { timeZone: 'Mars/Olympus', days: { sun: [['00:00', '24:00'], ['10:00', '09:00'], ['x', '12:00']] } } })!;
    expect(allDay.timeZone).toBe('UTC');
    expect(businessHoursOf({ businessHours: { timeZone: '+02:00', days: {} } })!.timeZone).toBe('UTC');
    expect(businessHoursOf({ businessHours: { timeZone: 'europe/helsinki', days: {} } })!.timeZone).toBe('Europe/Helsinki');
    expect(allDay.days.sun).toEqual([[0, 1440]]);
    expect(hoursStatus(allDay, new Date('2025-01-19T23:59:00Z')).open).toBe(true);
    expect(hoursStatus(allDay, new Date('2025-01-20T00:00:00Z'))).toEqual({ open: false, nextOpen: new Date('2025-01-26T00:00:00Z') });
    expect(businessHoursOf({})).toBeUndefined();
    expect(hoursStatus(businessHoursOf({ businessHours: { timeZone: 'UTC', days: {} } })!, new Date())).toEqual({ open: false });
  });
});
