package store

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"time"
)

// Bounds of an open-ended period, in Unix microseconds.
const (
	minMicros int64 = math.MinInt64
	maxMicros int64 = math.MaxInt64
)

// fhirDate matches the FHIR date, dateTime and instant forms: YYYY,
// YYYY-MM, YYYY-MM-DD, and YYYY-MM-DDThh:mm[:ss[.fraction]][zone]. Search
// values may stop at minutes; stored dateTimes have seconds.
var fhirDate = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$`)

// dateRange returns the interval [lo, hi) in Unix microseconds that a FHIR
// date or dateTime covers at its precision: "2024" covers the whole year,
// "2024-03-05T10:00:00Z" one second. A value with a time but no zone is
// taken as UTC.
func dateRange(s string) (lo, hi int64, err error) {
	m := fhirDate.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, fmt.Errorf("%q is not a FHIR date: use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.fff]Z", s)
	}
	year, _ := strconv.Atoi(m[1])
	month, day := 1, 1
	if m[2] != "" {
		month, _ = strconv.Atoi(m[2])
	}
	if m[3] != "" {
		day, _ = strconv.Atoi(m[3])
	}
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) {
		return 0, 0, fmt.Errorf("%q is not a calendar date", s)
	}

	if m[4] == "" {
		start := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
		var end time.Time
		switch {
		case m[2] == "":
			end = start.AddDate(1, 0, 0)
		case m[3] == "":
			end = start.AddDate(0, 1, 0)
		default:
			end = start.AddDate(0, 0, 1)
		}
		return start.UnixMicro(), end.UnixMicro(), nil
	}
	return timeRange(s, m, year, month, day)
}

func timeRange(s string, m []string, year, month, day int) (lo, hi int64, err error) {
	hour, _ := strconv.Atoi(m[4])
	minute, _ := strconv.Atoi(m[5])
	second := 0
	if m[6] != "" {
		second, _ = strconv.Atoi(m[6])
	}
	if hour > 23 || minute > 59 || second > 60 {
		return 0, 0, fmt.Errorf("%q has an invalid time of day", s)
	}
	loc := time.UTC
	if zone := m[8]; zone != "" && zone != "Z" {
		zh, _ := strconv.Atoi(zone[1:3])
		zm, _ := strconv.Atoi(zone[4:6])
		offset := zh*3600 + zm*60
		if zone[0] == '-' {
			offset = -offset
		}
		loc = time.FixedZone(zone, offset)
	}

	nanos := 0
	width := time.Minute
	switch {
	case m[7] != "":
		frac := m[7]
		v, _ := strconv.Atoi(frac)
		scale := 1
		for range 9 - len(frac) {
			scale *= 10
		}
		nanos = v * scale
		width = max(time.Duration(scale), time.Microsecond)
	case m[6] != "":
		width = time.Second
	}
	start := time.Date(year, time.Month(month), day, hour, minute, second, nanos, loc)
	startMicros := start.UnixMicro()
	return startMicros, startMicros + width.Microseconds(), nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
