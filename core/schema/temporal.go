package schema

import (
	"fmt"
	"strings"
)

// The FHIR temporal types, checked by hand so that the diagnostic can name
// the part that is wrong. The grammar is that of the FHIR R4 datatypes page:
// years 0001 to 9999, a time needs seconds, dateTime and instant need a
// timezone (Z or ±hh:mm up to +14:00) whenever they have a time, and a date
// must exist in the calendar.

func checkDate(s string) error {
	rest, reason := scanDate(s, false)
	if reason == "" && rest != "" {
		if strings.HasPrefix(rest, "T") {
			reason = "a date has no time; use a dateTime element for a time"
		} else {
			reason = fmt.Sprintf("unexpected %q after the date", rest)
		}
	}
	if reason != "" {
		return formatErr(s, "date", reason, dateForms)
	}
	return nil
}

func checkDateTime(s string) error {
	rest, reason := scanDate(s, false)
	if reason == "" && rest != "" {
		reason = checkTimeSuffix(s, rest)
	}
	if reason != "" {
		return formatErr(s, "dateTime", reason, dateTimeForms)
	}
	return nil
}

func checkInstant(s string) error {
	rest, reason := scanDate(s, true)
	switch {
	case reason != "":
	case rest == "":
		reason = "an instant needs a time with seconds and a timezone"
	default:
		reason = checkTimeSuffix(s, rest)
	}
	if reason != "" {
		return formatErr(s, "instant", reason, instantForms)
	}
	return nil
}

func checkTime(s string) error {
	rest, reason := scanClock(s)
	if reason == "" && rest != "" {
		reason = fmt.Sprintf("unexpected %q after the time; a FHIR time has no timezone", rest)
	}
	if reason != "" {
		return formatErr(s, "time", reason, timeForms)
	}
	return nil
}

// checkTimeSuffix checks "Thh:mm:ss[.fff]" and the timezone after a full
// date, and returns what is wrong or "".
func checkTimeSuffix(s, rest string) string {
	if len(s)-len(rest) != 10 {
		return "a time needs a full date (YYYY-MM-DD) before it"
	}
	if rest[0] != 'T' {
		return fmt.Sprintf("expected 'T' between the date and the time, found %q", rest[:1])
	}
	rest, reason := scanClock(rest[1:])
	if reason != "" {
		return reason
	}
	if rest == "" {
		return "the time has no timezone; add Z or an offset such as +01:00"
	}
	return checkZone(rest)
}

// scanDate reads YYYY[-MM[-DD]] from s, all three parts when full is set,
// and returns the rest of s, or a reason when the date is invalid.
func scanDate(s string, full bool) (rest, reason string) {
	year, ok := digitsAt(s, 0, 4)
	if !ok {
		return "", "the year must be four digits"
	}
	if year == 0 {
		return "", "year 0000 does not exist; years run from 0001"
	}
	if len(s) == 4 || s[4] != '-' {
		if full {
			return "", "an instant needs a full date, YYYY-MM-DD"
		}
		return s[4:], ""
	}

	month, ok := digitsAt(s, 5, 2)
	if !ok {
		return "", "the month must be two digits"
	}
	if month < 1 || month > 12 {
		return "", fmt.Sprintf("month %02d is out of range 01 to 12", month)
	}
	if len(s) == 7 || s[7] != '-' {
		if full {
			return "", "an instant needs a full date, YYYY-MM-DD"
		}
		return s[7:], ""
	}

	day, ok := digitsAt(s, 8, 2)
	if !ok {
		return "", "the day must be two digits"
	}
	if last := daysIn(year, month); day < 1 || day > last {
		return "", fmt.Sprintf("day %02d is out of range 01 to %02d for %04d-%02d", day, last, year, month)
	}
	return s[10:], ""
}

// scanClock reads hh:mm:ss[.fff] and returns the rest of s.
func scanClock(s string) (rest, reason string) {
	hour, ok1 := digitsAt(s, 0, 2)
	minute, ok2 := digitsAt(s, 3, 2)
	second, ok3 := digitsAt(s, 6, 2)
	if !ok1 || !ok2 || !ok3 || s[2] != ':' || s[5] != ':' {
		return "", "the time must be hh:mm:ss, with seconds"
	}
	switch {
	case hour > 23:
		return "", fmt.Sprintf("hour %02d is out of range 00 to 23", hour)
	case minute > 59:
		return "", fmt.Sprintf("minute %02d is out of range 00 to 59", minute)
	case second > 60:
		return "", fmt.Sprintf("second %02d is out of range 00 to 60", second)
	}
	rest = s[8:]
	if strings.HasPrefix(rest, ".") {
		n := 1
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' {
			n++
		}
		if n == 1 {
			return "", "a decimal point in the seconds needs digits after it"
		}
		rest = rest[n:]
	}
	return rest, ""
}

func checkZone(z string) string {
	if z == "Z" {
		return ""
	}
	hour, ok1 := digitsAt(z, 1, 2)
	minute, ok2 := digitsAt(z, 4, 2)
	if len(z) != 6 || (z[0] != '+' && z[0] != '-') || !ok1 || !ok2 || z[3] != ':' {
		return fmt.Sprintf("the timezone %q is not Z or ±hh:mm", z)
	}
	if minute > 59 || hour > 14 || (hour == 14 && minute != 0) {
		return fmt.Sprintf("the timezone %q is out of range -14:00 to +14:00", z)
	}
	return ""
}

// digitsAt parses n ASCII digits at s[i:].
func digitsAt(s string, i, n int) (int, bool) {
	if i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}
