package schema

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// maxStringBytes is the FHIR limit on a string value: 1 MiB.
const maxStringBytes = 1 << 20

// Forms that the diagnostics offer for the temporal types.
const (
	dateForms     = "use YYYY, YYYY-MM or YYYY-MM-DD, such as 1974, 1974-12 or 1974-12-25"
	dateTimeForms = "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss with a timezone, such as 2015-02-07T13:28:17-05:00 or 2015-02-07T18:28:17Z"
	instantForms  = "use YYYY-MM-DDThh:mm:ss[.sss] with a timezone, such as 2015-02-07T13:28:17.239+02:00"
	timeForms     = "use hh:mm:ss[.sss] without a timezone, such as 13:28:17"
)

// FormatError is the error of a FHIR format check. Its message is the whole
// diagnostic: the value, the type, what is wrong and which forms are valid.
type FormatError struct {
	// Value is the text of the value, cut when long.
	Value string
	// Number is set when Value is the text of a JSON number, so it is
	// shown without quotes.
	Number bool
	// Type is the FHIR primitive type, such as "date".
	Type string
	// Reason is the problem with the value.
	Reason string
	// Hint lists the valid forms.
	Hint string
}

func (e *FormatError) Error() string {
	value := quoteValue(e.Value)
	if e.Number {
		value = e.Value
	}
	msg := fmt.Sprintf("%s is not a valid FHIR %s: %s", value, e.Type, e.Reason)
	if e.Hint != "" {
		msg += "; " + e.Hint
	}
	return msg
}

// stringChecks are the checks of the FHIR primitive types whose JSON form
// is a string, by FHIR type name.
var stringChecks = map[string]func(string) error{
	"string":       func(s string) error { return checkString(s, "string") },
	"markdown":     func(s string) error { return checkString(s, "markdown") },
	"code":         checkCode,
	"id":           checkID,
	"uri":          func(s string) error { return checkURI(s, "uri") },
	"url":          func(s string) error { return checkURI(s, "url") },
	"canonical":    func(s string) error { return checkURI(s, "canonical") },
	"oid":          checkOID,
	"uuid":         checkUUID,
	"base64Binary": checkBase64,
	"date":         checkDate,
	"dateTime":     checkDateTime,
	"instant":      checkInstant,
	"time":         checkTime,
	"xhtml":        checkXHTML,
}

// fhirFormats returns the formats that the hub's schemas name: "fhir-" and
// the FHIR primitive type name. FHIR url uses the standard "uri" format.
func fhirFormats() []*jsonschema.Format {
	formats := []*jsonschema.Format{
		{Name: "fhir-decimal", Validate: checkDecimal},
		{Name: "fhir-integer", Validate: integerCheck("integer", -1<<31)},
		{Name: "fhir-unsignedInt", Validate: integerCheck("unsignedInt", 0)},
		{Name: "fhir-positiveInt", Validate: integerCheck("positiveInt", 1)},
	}
	for _, name := range sortedKeys(stringChecks) {
		check := stringChecks[name]
		formats = append(formats, &jsonschema.Format{Name: "fhir-" + name, Validate: func(v any) error {
			s, ok := v.(string)
			if !ok {
				return nil
			}
			return check(s)
		}})
	}
	return formats
}

// checkPrimitive runs the check of the FHIR string type typeName on s, and
// returns nil when s passes or the type has no check.
func checkPrimitive(typeName, s string) error {
	if check, ok := stringChecks[typeName]; ok {
		return check(s)
	}
	return nil
}

func formatErr(value, typ, reason, hint string) error {
	return &FormatError{Value: value, Type: typ, Reason: reason, Hint: hint}
}

func checkString(s, typ string) error {
	if s == "" {
		return formatErr(s, typ, "it is empty", "leave the element out instead of sending an empty string")
	}
	if len(s) > maxStringBytes {
		return formatErr(s[:64], typ, fmt.Sprintf("it is %d bytes long, more than the FHIR limit of 1 MiB", len(s)), "send large content as an attachment")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' {
			return formatErr(s, typ, fmt.Sprintf("it contains the control character 0x%02x at byte %d", c, i), "only tab, carriage return and line feed are allowed")
		}
	}
	return nil
}

func checkCode(s string) error {
	const hint = "a code has no leading or trailing whitespace and single spaces between words"
	if s == "" {
		return formatErr(s, "code", "it is empty", "leave the element out instead")
	}
	space := true // a leading space counts as a double space
	for i := 0; i < len(s); i++ {
		isSpace := s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f'
		if isSpace && (space || s[i] != ' ') {
			return formatErr(s, "code", "it has unexpected whitespace", hint)
		}
		space = isSpace
	}
	if space {
		return formatErr(s, "code", "it ends with whitespace", hint)
	}
	return nil
}

func checkID(s string) error {
	const hint = "an id is 1 to 64 letters, digits, '-' and '.'"
	if s == "" || len(s) > 64 {
		return formatErr(s, "id", fmt.Sprintf("it is %d characters long", utf8.RuneCountInString(s)), hint)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(isAlnum(c) || c == '-' || c == '.') {
			return formatErr(s, "id", fmt.Sprintf("it contains %s", quoteRuneAt(s, i)), hint)
		}
	}
	return nil
}

// checkURI checks the syntax that every FHIR uri shares: no whitespace or
// control characters, "%" followed by two hex digits, and a valid scheme
// when the text before the first ":" could be one. It accepts "|", which
// RFC 3986 does not, because FHIR writes canonical versions as
// "url|version". It does not parse the URI, which keeps it free of
// allocations on the many Coding.system values of a bundle.
func checkURI(s, typ string) error {
	const hint = "write a URI as in RFC 3986, such as http://loinc.org or urn:oid:1.2.3"
	if s == "" {
		return formatErr(s, typ, "it is empty", "leave the element out instead")
	}
	schemeEnd := -1
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ' || c == 0x7f:
			return formatErr(s, typ, "it contains whitespace or a control character", "percent-encode it, such as %20 for a space")
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return formatErr(s, typ, fmt.Sprintf("%%-escape at byte %d is not followed by two hex digits", i), hint)
			}
		case c == ':' && schemeEnd < 0:
			schemeEnd = i
		case (c == '/' || c == '?' || c == '#') && schemeEnd < 0:
			schemeEnd = len(s) // no scheme: a relative reference
		}
	}
	if schemeEnd >= 0 && schemeEnd < len(s) && !isScheme(s[:schemeEnd]) {
		return formatErr(s, typ, fmt.Sprintf("%q before the first ':' is not a URI scheme", s[:schemeEnd]), hint)
	}
	return nil
}

// isScheme reports whether s is an RFC 3986 scheme: a letter, then letters,
// digits, "+", "-" and ".".
func isScheme(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !(isAlnum(c) || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func checkOID(s string) error {
	const hint = "write an OID as urn:oid: and dot-separated numbers, such as urn:oid:1.2.3.4"
	rest, ok := strings.CutPrefix(s, "urn:oid:")
	if !ok || len(rest) < 3 || rest[0] < '0' || rest[0] > '2' || rest[1] != '.' {
		return formatErr(s, "oid", "it does not start with urn:oid: and an arc of 0, 1 or 2", hint)
	}
	for _, arc := range strings.Split(rest[2:], ".") {
		if arc == "" || !allDigits(arc) || (len(arc) > 1 && arc[0] == '0') {
			return formatErr(s, "oid", fmt.Sprintf("arc %q is not a number without leading zeros", arc), hint)
		}
	}
	return nil
}

func checkUUID(s string) error {
	const hint = "write a UUID as urn:uuid: and 36 lowercase hex digits and dashes, such as urn:uuid:c757873d-ec9a-4326-a141-556f43239520"
	rest, ok := strings.CutPrefix(s, "urn:uuid:")
	if !ok || len(rest) != 36 {
		return formatErr(s, "uuid", "it is not urn:uuid: followed by 36 characters", hint)
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return formatErr(s, "uuid", fmt.Sprintf("expected '-' at position %d", i+1), hint)
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return formatErr(s, "uuid", fmt.Sprintf("%s is not a lowercase hex digit", quoteRuneAt(rest, i)), hint)
		}
	}
	return nil
}

// checkBase64 accepts standard base64 (RFC 4648 section 4) with padding,
// ignoring whitespace between characters as MIME line breaks put it there.
func checkBase64(s string) error {
	const hint = "encode binary content as standard base64 with padding"
	n, pad := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f':
			continue
		case c == '=':
			pad++
		case pad > 0:
			return formatErr(s, "base64Binary", fmt.Sprintf("data follows the padding at byte %d", i), hint)
		case isAlnum(c) || c == '+' || c == '/':
		default:
			return formatErr(s, "base64Binary", fmt.Sprintf("%s at byte %d is not a base64 character", quoteRuneAt(s, i), i), hint)
		}
		n++
	}
	if n == 0 {
		return formatErr(s, "base64Binary", "it is empty", "leave the element out instead")
	}
	if n%4 != 0 || pad > 2 {
		return formatErr(s, "base64Binary", fmt.Sprintf("its length without whitespace is %d, not a multiple of 4", n), hint)
	}
	return nil
}

func checkXHTML(s string) error {
	const hint = `a narrative is one XHTML <div xmlns="http://www.w3.org/1999/xhtml"> element`
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "<div") || len(t) < 5 || !(t[4] == '>' || t[4] == '/' || t[4] == ' ' || t[4] == '\t' || t[4] == '\n' || t[4] == '\r') {
		return formatErr(s, "xhtml", "it does not start with a <div> element", hint)
	}
	if !strings.HasSuffix(t, "</div>") && !strings.HasSuffix(t, "/>") {
		return formatErr(s, "xhtml", "it does not end with </div>", hint)
	}
	return nil
}

// integerCheck returns the check of a FHIR integer type: the JSON text has
// no fraction or exponent, and the value lies in [lowest, 2^31-1].
func integerCheck(typ string, lowest int64) func(v any) error {
	hint := fmt.Sprintf("a FHIR %s is a whole number from %d to 2147483647, written without a decimal point", typ, lowest)
	return func(v any) error {
		var text string
		switch n := v.(type) {
		case json.Number:
			text = string(n)
		case float64:
			text = strconv.FormatFloat(n, 'f', -1, 64)
		case int:
			text = strconv.Itoa(n)
		case int64:
			text = strconv.FormatInt(n, 10)
		default:
			return nil
		}
		i, err := strconv.ParseInt(text, 10, 64)
		switch {
		case err != nil && !allDigits(strings.TrimPrefix(text, "-")):
			return &FormatError{Value: text, Number: true, Type: typ, Reason: "it is not a whole number in plain notation", Hint: hint}
		case err != nil || i < lowest || i > 1<<31-1:
			return &FormatError{Value: text, Number: true, Type: typ, Reason: "it is out of range", Hint: hint}
		}
		return nil
	}
}

// checkDecimal accepts any JSON number. It matters for documents decoded
// by callers into float64, where NaN and infinities can appear.
func checkDecimal(v any) error {
	if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
		return &FormatError{Value: fmt.Sprint(f), Number: true, Type: "decimal", Reason: "it is not a finite number", Hint: "send a JSON number"}
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// quoteValue quotes a value for a diagnostic, cut to 80 bytes so that a long
// base64 string does not flood the outcome.
func quoteValue(s string) string {
	const limit = 80
	if len(s) <= limit {
		return strconv.Quote(s)
	}
	cut := limit
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("… (%d bytes)", len(s))
}

func quoteRuneAt(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return strconv.QuoteRune(r)
}
