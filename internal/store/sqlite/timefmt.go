package sqlite

import "time"

// parseStoredTime decodes a timestamp in timeLayout by hand, the format
// encodeTime writes: a decoded row's timestamps went through time.Parse,
// which walks the layout chunk by chunk and was a visible share of the
// CPU of the caller's query (docs/performance.md, "The caller in one
// query"). It reports false for anything it does not take for certain
// (other lengths, separators or digits, a field out of range), and
// decodeTime then asks time.Parse, whose answer (or error) stands.
// TestStoredTimeAgreesWithTimeParse and FuzzStoredTime hold it to
// time.Parse's result.
func parseStoredTime(s string) (time.Time, bool) {
	// 2006-01-02T15:04:05.000000000Z
	// 0123456789012345678901234567890
	if len(s) != len(timeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	sec, ok6 := digits(s[17:19])
	nsec, ok7 := digits(s[20:29])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 ||
		month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC), true
}

// digits is the value of a string of ASCII digits only.
func digits(s string) (int, bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		n = n*10 + int(c)
	}
	return n, true
}

func daysIn(m time.Month, year int) int {
	switch m {
	case time.February:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}
