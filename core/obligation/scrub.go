package obligation

import (
	"cmp"
	"regexp"
	"slices"
	"strings"
)

// Categories of what the scrubber finds, used in markers ([NAME]) and in
// reports.
const (
	CategoryName       = "name"
	CategoryIdentifier = "identifier"
	CategoryPhone      = "phone"
	CategoryEmail      = "email"
	CategoryAddress    = "address"
	CategorySSN        = "ssn"
	CategoryMRN        = "mrn"
	CategoryDate       = "date"
)

// Known holds values known to identify the patient of a request, which the
// scrubber removes from free text wherever they appear.
type Known struct {
	Names       []string
	Identifiers []string
	Phones      []string
	Emails      []string
	Addresses   []string
}

func (k *Known) add(other Known) bool {
	changed := false
	merge := func(dst *[]string, src []string, minLen int, needDigit bool) {
		for _, v := range src {
			v = strings.TrimSpace(v)
			if len(v) < minLen || (needDigit && !strings.ContainsAny(v, "0123456789")) || slices.Contains(*dst, v) {
				continue
			}
			*dst = append(*dst, v)
			changed = true
		}
	}
	// One-letter names and short identifiers would match inside ordinary
	// words and numbers. Identifiers without a digit, such as the resource
	// id "example", are ordinary words far more often than record numbers.
	merge(&k.Names, other.Names, 2, false)
	merge(&k.Identifiers, other.Identifiers, 4, true)
	merge(&k.Phones, other.Phones, 4, false)
	merge(&k.Emails, other.Emails, 3, false)
	merge(&k.Addresses, other.Addresses, 3, false)
	return changed
}

// detector finds one category of data in text. group selects the submatch
// to replace (0 for the whole match).
type detector struct {
	category string
	re       *regexp.Regexp
	group    int
}

// Pattern detectors, compiled once. They follow common US formats; a value
// in another format is found only when it is known.
var patternDetectors = []detector{
	{CategoryEmail, regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`), 0},
	{CategorySSN, regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`), 0},
	{CategoryPhone, regexp.MustCompile(`(?:\+\d{1,3}[\s.-]?)?(?:\(\d{3}\)\s?|\b\d{3}[\s.-])\d{3}[\s.-]\d{4}\b`), 0},
	{CategoryMRN, regexp.MustCompile(`(?i)\b(?:MRN|MR#|medical record(?: number)?|patient id)\s*[:#]?\s*([A-Z0-9][A-Z0-9-]{3,})\b`), 1},
	{CategoryMRN, regexp.MustCompile(`\b[A-Z]{1,3}\d{6,}\b`), 0},
	{CategoryDate, regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?`), 0},
	{CategoryDate, regexp.MustCompile(`\b\d{1,2}/\d{1,2}/\d{2,4}\b`), 0},
	{CategoryDate, regexp.MustCompile(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}\b`), 0},
	{CategoryDate, regexp.MustCompile(`(?i)\b\d{1,2}\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{4}\b`), 0},
}

// scrubber finds identifying data in text: the known values of a session
// and the common patterns.
type scrubber struct {
	detectors []detector
}

func newScrubber(k Known) *scrubber {
	var ds []detector
	for _, c := range []struct {
		category string
		values   []string
	}{
		{CategoryName, k.Names},
		{CategoryIdentifier, k.Identifiers},
		{CategoryPhone, k.Phones},
		{CategoryEmail, k.Emails},
		{CategoryAddress, k.Addresses},
	} {
		if re := knownValuesRegexp(c.values); re != nil {
			ds = append(ds, detector{c.category, re, 0})
		}
	}
	return &scrubber{detectors: append(ds, patternDetectors...)}
}

// knownValuesRegexp matches any of values, ignoring case, longest first so
// that "Anna Maria" wins over "Anna". A value that starts or ends with a
// letter or digit must start or end a word there, so that "Ann" does not
// match inside "Annual".
func knownValuesRegexp(values []string) *regexp.Regexp {
	if len(values) == 0 {
		return nil
	}
	sorted := slices.Clone(values)
	slices.SortFunc(sorted, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	alternatives := make([]string, len(sorted))
	for i, v := range sorted {
		alt := regexp.QuoteMeta(v)
		if isWordByte(v[0]) {
			alt = `\b` + alt
		}
		if isWordByte(v[len(v)-1]) {
			alt += `\b`
		}
		alternatives[i] = alt
	}
	return regexp.MustCompile(`(?i)(?:` + strings.Join(alternatives, "|") + `)`)
}

func isWordByte(c byte) bool {
	return c == '_' || ('0' <= c && c <= '9') || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

type finding struct {
	start, end int
	category   string
}

// find returns the non-overlapping findings in text, in order. Where two
// overlap, the one that starts first wins, and of two that start together
// the longer.
func (s *scrubber) find(text string) []finding {
	var all []finding
	for _, d := range s.detectors {
		for _, m := range d.re.FindAllStringSubmatchIndex(text, -1) {
			start, end := m[2*d.group], m[2*d.group+1]
			if start >= 0 && end > start {
				all = append(all, finding{start, end, d.category})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b finding) int {
		return cmp.Or(cmp.Compare(a.start, b.start), cmp.Compare(b.end, a.end))
	})
	var out []finding
	end := 0
	for _, f := range all {
		if f.start >= end {
			out = append(out, f)
			end = f.end
		}
	}
	return out
}

// scrub replaces each finding in text by replace(category, match) and
// counts the findings by category.
func (s *scrubber) scrub(text string, replace func(category, match string) string) (string, map[string]int) {
	findings := s.find(text)
	if len(findings) == 0 {
		return text, nil
	}
	counts := map[string]int{}
	var b strings.Builder
	last := 0
	for _, f := range findings {
		b.WriteString(text[last:f.start])
		b.WriteString(replace(f.category, text[f.start:f.end]))
		counts[f.category]++
		last = f.end
	}
	b.WriteString(text[last:])
	return b.String(), counts
}

func marker(category string) string {
	return "[" + strings.ToUpper(category) + "]"
}
