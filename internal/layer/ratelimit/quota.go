package ratelimit

import "time"

// calendarWindow finds the calendar window containing now in the policy's
// zone: it appends the window's id (part of the counter key) to b and
// returns its start and end. time.Date normalizes daylight-saving days, so
// a day is 23 or 25 hours where it must be.
func (p *policy) calendarWindow(b []byte, now time.Time) (key []byte, start, end time.Time) {
	t := now.In(p.loc)
	y, m, d := t.Date()
	if p.per == "month" {
		start = time.Date(y, m, 1, 0, 0, 0, 0, p.loc)
		return start.AppendFormat(b, "2006-01"), start, start.AddDate(0, 1, 0)
	}
	start = time.Date(y, m, d, 0, 0, 0, 0, p.loc)
	return start.AppendFormat(b, "2006-01-02"), start, start.AddDate(0, 0, 1)
}
