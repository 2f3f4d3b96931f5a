package schema

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"

	"github.com/healthhub/healthhub/sdk"
)

// MaxDepth is the deepest nesting of objects and arrays that Parse accepts.
// Real FHIR resources stay far below it (a Synthea bundle nests about 12
// levels); the limit keeps hostile input from exhausting the stack.
const MaxDepth = 512

// Parse decodes one JSON document into the values the validator works on:
// map[string]any, []any, string, json.Number, bool and nil.
//
// Numbers stay json.Number with their exact text, so a FHIR decimal keeps
// its precision and trailing zeros ("1.10" stays "1.10") and a large integer
// is never rounded through float64. Parse is stricter than encoding/json
// where FHIR JSON requires it: it rejects duplicate member names, invalid
// UTF-8 and data after the document. A leading UTF-8 byte order mark is
// skipped.
//
// On bad input Parse returns an *sdk.Outcome with one issue of code
// structure whose Path points at the value being read.
//
// The returned strings share memory with one private copy of data, which
// stays in memory as long as the document does. The caller may reuse data
// at once.
func Parse(data []byte) (any, error) {
	buf := make([]byte, len(data))
	copy(buf, data)
	p := &parser{data: buf}
	if len(buf) >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF {
		p.pos = 3
	}

	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos < len(p.data) {
		return nil, p.fail("unexpected data after the end of the JSON document; send one document per request")
	}
	return v, nil
}

// parser is a recursive-descent JSON parser over a buffer it owns.
type parser struct {
	data []byte
	pos  int
	// path holds the member names and array indexes leading to the value
	// being parsed, for error paths.
	path []pathToken
	// members is a stack of the members of the objects being parsed, so an
	// object's map can be allocated at its final size.
	members []member
	// items is the same for arrays.
	items []any
}

type pathToken struct {
	name    string
	index   int
	isIndex bool
}

type member struct {
	name  string
	value any
}

// str returns b as a string without copying. It is safe because p.data is a
// private copy that is never written after Parse starts.
func str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func (p *parser) value(depth int) (any, error) {
	if depth > MaxDepth {
		return nil, p.fail(fmt.Sprintf("JSON nested deeper than %d levels", MaxDepth))
	}
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of JSON input; the document is truncated")
	}
	switch c := p.data[p.pos]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		return p.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.fail(fmt.Sprintf("unexpected character %s where a JSON value should start", quoteByte(c)))
	}
}

func (p *parser) object(depth int) (any, error) {
	p.pos++ // '{'
	base := len(p.members)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return map[string]any{}, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a member name in double quotes")
		}
		name, err := p.string()
		if err != nil {
			return nil, err
		}
		for _, m := range p.members[base:] {
			if m.name == name {
				p.path = append(p.path, pathToken{name: name})
				return nil, p.fail(fmt.Sprintf("duplicate member %q; FHIR JSON allows each name once per object", name))
			}
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, p.fail(fmt.Sprintf("expected ':' after member name %q", name))
		}
		p.pos++
		p.skipSpace()

		p.path = append(p.path, pathToken{name: name})
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		p.members = append(p.members, member{name, v})

		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of JSON input inside an object; the document is truncated")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case '}':
			p.pos++
		default:
			return nil, p.fail("expected ',' or '}' after an object member; check for a missing comma")
		}
		break
	}

	obj := make(map[string]any, len(p.members)-base)
	for _, m := range p.members[base:] {
		obj[m.name] = m.value
	}
	clear(p.members[base:])
	p.members = p.members[:base]
	return obj, nil
}

func (p *parser) array(depth int) (any, error) {
	p.pos++ // '['
	base := len(p.items)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return []any{}, nil
	}
	for i := 0; ; i++ {
		p.skipSpace()
		p.path = append(p.path, pathToken{index: i, isIndex: true})
		v, err := p.value(depth + 1)
		if err != nil {
			return nil, err
		}
		p.path = p.path[:len(p.path)-1]
		p.items = append(p.items, v)

		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of JSON input inside an array; the document is truncated")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
			continue
		case ']':
			p.pos++
		default:
			return nil, p.fail("expected ',' or ']' after an array item; check for a missing comma")
		}
		break
	}

	arr := make([]any, len(p.items)-base)
	copy(arr, p.items[base:])
	clear(p.items[base:])
	p.items = p.items[:base]
	return arr, nil
}

// string parses a string starting at the opening quote. Strings without
// escapes are returned as views of the buffer.
func (p *parser) string() (string, error) {
	start := p.pos + 1
	ascii := true
	for i := start; i < len(p.data); i++ {
		c := p.data[i]
		switch {
		case c == '"':
			p.pos = i + 1
			s := p.data[start:i]
			if !ascii && !utf8.Valid(s) {
				return "", p.failAt(start, "string is not valid UTF-8; FHIR JSON must be encoded in UTF-8")
			}
			return str(s), nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return "", p.failAt(i, "control character in a string; escape it, such as \\n for a newline")
		case c >= 0x80:
			ascii = false
		}
	}
	return "", p.failAt(len(p.data), "unexpected end of JSON input inside a string; the document is truncated")
}

// escapedString decodes a string with escapes into a new buffer.
func (p *parser) escapedString(start int) (string, error) {
	out := make([]byte, 0, 32)
	i := start
	for i < len(p.data) {
		c := p.data[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if !utf8.Valid(out) {
				return "", p.failAt(start, "string is not valid UTF-8; FHIR JSON must be encoded in UTF-8")
			}
			return string(out), nil
		case c < 0x20:
			return "", p.failAt(i, "control character in a string; escape it, such as \\n for a newline")
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}

		if i+1 >= len(p.data) {
			break
		}
		switch e := p.data[i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n, err := p.unicodeEscape(i)
			if err != nil {
				return "", err
			}
			out = utf8.AppendRune(out, r)
			i += n
			continue
		default:
			return "", p.failAt(i, fmt.Sprintf("invalid escape \\%c in a string", e))
		}
		i += 2
	}
	return "", p.failAt(len(p.data), "unexpected end of JSON input inside a string; the document is truncated")
}

// unicodeEscape decodes \uXXXX at i, with a following low surrogate when
// the first is a high surrogate, and returns the rune and bytes consumed.
// A lone surrogate is rejected because it cannot be encoded in UTF-8.
func (p *parser) unicodeEscape(i int) (rune, int, error) {
	r1, ok := p.hex4(i + 2)
	if !ok {
		return 0, 0, p.failAt(i, "invalid \\u escape; it needs four hex digits")
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6, nil
	}
	if i+12 <= len(p.data) && p.data[i+6] == '\\' && p.data[i+7] == 'u' {
		if r2, ok := p.hex4(i + 8); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 12, nil
			}
		}
	}
	return 0, 0, p.failAt(i, "unpaired UTF-16 surrogate in a \\u escape")
}

func (p *parser) hex4(i int) (rune, bool) {
	if i+4 > len(p.data) {
		return 0, false
	}
	var r rune
	for _, c := range p.data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// number scans a number by the JSON grammar and keeps its text.
func (p *parser) number() (any, error) {
	start := p.pos
	i := p.pos
	if p.data[i] == '-' {
		i++
	}
	switch {
	case i < len(p.data) && p.data[i] == '0':
		i++
	case i < len(p.data) && p.data[i] >= '1' && p.data[i] <= '9':
		i = p.digits(i)
	default:
		return nil, p.failAt(i, "invalid number: expected a digit")
	}
	if i < len(p.data) && p.data[i] == '.' {
		i++
		if i >= len(p.data) || p.data[i] < '0' || p.data[i] > '9' {
			return nil, p.failAt(i, "invalid number: expected a digit after the decimal point")
		}
		i = p.digits(i)
	}
	if i < len(p.data) && (p.data[i] == 'e' || p.data[i] == 'E') {
		i++
		if i < len(p.data) && (p.data[i] == '+' || p.data[i] == '-') {
			i++
		}
		if i >= len(p.data) || p.data[i] < '0' || p.data[i] > '9' {
			return nil, p.failAt(i, "invalid number: expected a digit in the exponent")
		}
		i = p.digits(i)
	}
	p.pos = i
	return json.Number(str(p.data[start:i])), nil
}

func (p *parser) digits(i int) int {
	for i < len(p.data) && p.data[i] >= '0' && p.data[i] <= '9' {
		i++
	}
	return i
}

func (p *parser) literal(word string) error {
	if len(p.data)-p.pos < len(word) || string(p.data[p.pos:p.pos+len(word)]) != word {
		return p.fail(fmt.Sprintf("invalid literal; expected %s", word))
	}
	p.pos += len(word)
	return nil
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) fail(msg string) error {
	return p.failAt(p.pos, msg)
}

// failAt returns an outcome for a syntax error at byte offset off, with the
// line and column a person looks for and the pointer of the current value.
func (p *parser) failAt(off int, msg string) error {
	line, col := 1, 1
	for _, c := range p.data[:min(off, len(p.data))] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	tokens := make([]string, len(p.path))
	for i, t := range p.path {
		if t.isIndex {
			tokens[i] = strconv.Itoa(t.index)
		} else {
			tokens[i] = t.name
		}
	}
	return sdk.NewOutcome(sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        sdk.CodeStructure,
		Path:        pointer(tokens),
		Diagnostics: fmt.Sprintf("parse JSON: line %d, column %d (byte %d): %s", line, col, off, msg),
		Source:      sdk.SourceHub,
	})
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", rune(c))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
