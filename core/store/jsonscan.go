package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// maxDepth bounds the nesting the scanner follows, so that a hostile body
// cannot exhaust the stack. FHIR resources nest far less.
const maxDepth = 256

// span is a byte range [start, end) of a JSON text.
type span struct{ start, end int }

// member is one top-level member of a resource: its key and the span of
// its value.
type member struct {
	key   string
	value span
}

// refSpan is a string value of a "reference" member, with its decoded text.
type refSpan struct {
	value span
	text  string
}

// scanResult records where a resource keeps the parts the store edits or
// indexes, as byte offsets into the received bytes.
type scanResult struct {
	resourceType string
	typeValue    span
	id           *span
	meta         *span
	metaMembers  int
	versionID    *span
	lastUpdated  *span
	top          []member
	refs         []refSpan
	// data are string values of "data" members: Binary.data and the data
	// of attachments, candidates for the blob store.
	data []span
}

// scanResource walks a JSON object once and records the spans of its
// top-level members, of meta.versionId and meta.lastUpdated, of every
// "reference" string and of every "data" string. The caller checks that
// the input is valid JSON. The scanner still bounds every index, so text
// it does not expect gets an error and never a panic.
func scanResource(b []byte) (*scanResult, error) {
	// Resources rarely have more than 16 top-level members.
	s := &scanner{b: b, res: &scanResult{top: make([]member, 0, 16)}}
	i := s.skipSpace(0)
	if i >= len(b) || b[i] != '{' {
		return nil, sdk.Invalidf("", "read resource: body is not a JSON object: send one resource as a JSON object")
	}
	end, err := s.object(i, 1, nil)
	if err != nil {
		return nil, err
	}
	if s.skipSpace(end) != len(b) {
		return nil, sdk.Invalidf("", "read resource: text after the closing brace at byte %d: send one JSON object", end)
	}
	if s.res.resourceType == "" {
		return nil, sdk.Invalidf("/resourceType", "read resource: missing resourceType: add the resource type, such as \"resourceType\": \"Patient\"")
	}
	return s.res, nil
}

type scanner struct {
	b   []byte
	res *scanResult
	// quiet skips recording, for walks that only need value bounds.
	quiet bool
}

var errTruncated = sdk.Invalidf("", "read resource: JSON text ends early: send complete JSON")

func (s *scanner) skipSpace(i int) int {
	for i < len(s.b) {
		switch s.b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// value returns the end of the JSON value starting at i. key is the name
// of the member the value belongs to.
func (s *scanner) value(i, depth int, key []byte) (int, error) {
	if i >= len(s.b) {
		return 0, errTruncated
	}
	switch s.b[i] {
	case '{':
		return s.object(i, depth+1, key)
	case '[':
		return s.array(i, depth+1, key)
	case '"':
		return s.str(i)
	default:
		for i < len(s.b) {
			switch s.b[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i, nil
			}
			i++
		}
		return i, nil
	}
}

// str returns the end of the string token at i. It jumps from quote to
// quote and counts the backslashes before each, which is much faster than
// a byte loop on long base64 strings.
func (s *scanner) str(i int) (int, error) {
	j := i + 1
	for {
		k := bytes.IndexByte(s.b[j:], '"')
		if k < 0 {
			return 0, errTruncated
		}
		j += k
		escapes := 0
		for p := j - 1; p > i && s.b[p] == '\\'; p-- {
			escapes++
		}
		if escapes%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

func (s *scanner) array(i, depth int, key []byte) (int, error) {
	if depth > maxDepth {
		return 0, sdk.Invalidf("", "read resource: nesting deeper than %d levels", maxDepth)
	}
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == ']' {
		return i + 1, nil
	}
	for i < len(s.b) {
		end, err := s.value(i, depth, key)
		if err != nil {
			return 0, err
		}
		i = s.skipSpace(end)
		if i >= len(s.b) {
			break
		}
		if s.b[i] == ']' {
			return i + 1, nil
		}
		i = s.skipSpace(i + 1) // past the comma
	}
	return 0, errTruncated
}

// object scans the object at i. depth is 1 for the resource itself, and
// key is the member name the object is the value of (for array elements,
// the array's member name).
func (s *scanner) object(i, depth int, key []byte) (int, error) {
	if depth > maxDepth {
		return 0, sdk.Invalidf("", "read resource: nesting deeper than %d levels", maxDepth)
	}
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == '}' {
		return i + 1, nil
	}
	for i < len(s.b) {
		keyEnd, err := s.str(i)
		if err != nil {
			return 0, err
		}
		name := keyName(s.b[i:keyEnd])
		i = s.skipSpace(keyEnd)
		if i >= len(s.b) || s.b[i] != ':' {
			return 0, errTruncated
		}
		start := s.skipSpace(i + 1)
		end, err := s.value(start, depth, name)
		if err != nil {
			return 0, err
		}
		if !s.quiet {
			if err := s.visit(depth, key, name, span{start, end}); err != nil {
				return 0, err
			}
		}
		i = s.skipSpace(end)
		if i >= len(s.b) {
			break
		}
		if s.b[i] == '}' {
			return i + 1, nil
		}
		i = s.skipSpace(i + 1) // past the comma
	}
	return 0, errTruncated
}

func (s *scanner) visit(depth int, parent, name []byte, v span) error {
	isString := s.b[v.start] == '"'
	switch {
	case depth == 1:
		return s.visitTop(string(name), v)
	case depth == 2 && string(parent) == "meta":
		s.res.metaMembers++
		switch string(name) {
		case "versionId":
			s.res.versionID = &span{v.start, v.end}
		case "lastUpdated":
			s.res.lastUpdated = &span{v.start, v.end}
		}
	}
	switch {
	case string(name) == "reference" && isString:
		s.res.refs = append(s.res.refs, refSpan{value: v, text: decodeString(s.b[v.start:v.end])})
	case string(name) == "data" && isString:
		s.res.data = append(s.res.data, v)
	}
	return nil
}

func (s *scanner) visitTop(name string, v span) error {
	for _, m := range s.res.top {
		if m.key == name {
			return sdk.Invalidf("/"+name, "read resource: member %q appears twice: keep one", name)
		}
	}
	s.res.top = append(s.res.top, member{key: name, value: v})
	isString := s.b[v.start] == '"'
	switch name {
	case "resourceType":
		if !isString {
			return sdk.Invalidf("/resourceType", "read resource: resourceType is not a string")
		}
		s.res.resourceType = decodeString(s.b[v.start:v.end])
		s.res.typeValue = v
	case "id":
		if !isString {
			return sdk.Invalidf("/id", "read resource: id is not a string")
		}
		s.res.id = &span{v.start, v.end}
	case "meta":
		if s.b[v.start] != '{' {
			return sdk.Invalidf("/meta", "read resource: meta is not an object")
		}
		s.res.meta = &span{v.start, v.end}
	case "data":
		if isString {
			s.res.data = append(s.res.data, v)
		}
	}
	return nil
}

// keyName returns the text of a member name token without its quotes,
// decoding escapes only when there are any.
func keyName(tok []byte) []byte {
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner
	}
	return []byte(decodeString(tok))
}

// decodeString decodes a JSON string token, quotes included. Tokens without
// escapes, the common case, are sliced without a decoder.
func decodeString(tok []byte) string {
	if len(tok) < 2 {
		return ""
	}
	inner := tok[1 : len(tok)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return string(inner)
	}
	var out string
	if err := json.Unmarshal(tok, &out); err != nil {
		return string(inner)
	}
	return out
}

// quoteJSON returns s as a JSON string token. It escapes only what JSON
// requires, so that ids and references stay readable.
func quoteJSON(s string) []byte {
	out := make([]byte, 0, len(s)+2)
	out = append(out, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			out = append(out, '\\', byte(r))
		case r < 0x20:
			out = append(out, `\u00`...)
			out = append(out, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&0xf])
		default:
			out = append(out, string(r)...)
		}
	}
	return append(out, '"')
}

// edit replaces b[start:end] with text; start == end inserts. When mark is
// set, splice reports where text starts in the output.
type edit struct {
	start, end int
	text       []byte
	mark       bool
}

// splice applies edits, sorted by start and not overlapping, to b. It
// returns the output and the output offsets of the marked edits in order.
func splice(b []byte, edits []edit) ([]byte, []int, error) {
	size := len(b)
	for _, e := range edits {
		size += len(e.text) - (e.end - e.start)
	}
	out := make([]byte, 0, size)
	var marks []int
	pos := 0
	for _, e := range edits {
		if e.start < pos || e.end < e.start || e.end > len(b) {
			return nil, nil, fmt.Errorf("splice resource: edit [%d,%d) overlaps the previous edit ending at %d", e.start, e.end, pos)
		}
		out = append(out, b[pos:e.start]...)
		if e.mark {
			marks = append(marks, len(out))
		}
		out = append(out, e.text...)
		pos = e.end
	}
	out = append(out, b[pos:]...)
	return out, marks, nil
}

// formatInstant formats t as a FHIR instant in UTC with microseconds, the
// precision both databases keep.
func formatInstant(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000Z07:00")
}

// identityEdits sets id, meta.versionId and meta.lastUpdated. Existing
// values are replaced in place. Missing members are inserted without
// whitespace: meta.versionId and meta.lastUpdated at the start of an
// existing meta object, a new meta member right after id, and a new id
// member right after resourceType.
func identityEdits(sc *scanResult, id string, version int64, lastUpdated time.Time) []edit {
	versionTok := quoteJSON(strconv.FormatInt(version, 10))
	instantTok := quoteJSON(formatInstant(lastUpdated))
	idTok := quoteJSON(id)
	metaMembers := func(parts ...[]byte) []byte {
		return bytes.Join(parts, []byte(","))
	}

	var edits []edit
	if sc.id != nil {
		edits = append(edits, edit{start: sc.id.start, end: sc.id.end, text: idTok})
	}
	if sc.meta == nil {
		text := []byte(`,"meta":{`)
		text = append(text, metaMembers(append([]byte(`"versionId":`), versionTok...), append([]byte(`"lastUpdated":`), instantTok...))...)
		text = append(text, '}')
		if sc.id != nil {
			return append(edits, edit{start: sc.id.end, end: sc.id.end, text: text})
		}
		text = append(append([]byte(`,"id":`), idTok...), text...)
		return append(edits, edit{start: sc.typeValue.end, end: sc.typeValue.end, text: text})
	}

	if sc.id == nil {
		text := append([]byte(`,"id":`), idTok...)
		edits = append(edits, edit{start: sc.typeValue.end, end: sc.typeValue.end, text: text})
	}
	var missing [][]byte
	if sc.versionID == nil {
		missing = append(missing, append([]byte(`"versionId":`), versionTok...))
	}
	if sc.lastUpdated == nil {
		missing = append(missing, append([]byte(`"lastUpdated":`), instantTok...))
	}
	if len(missing) > 0 {
		text := metaMembers(missing...)
		if sc.metaMembers > 0 {
			text = append(text, ',')
		}
		edits = append(edits, edit{start: sc.meta.start + 1, end: sc.meta.start + 1, text: text})
	}
	if sc.versionID != nil {
		edits = append(edits, edit{start: sc.versionID.start, end: sc.versionID.end, text: versionTok})
	}
	if sc.lastUpdated != nil {
		edits = append(edits, edit{start: sc.lastUpdated.start, end: sc.lastUpdated.end, text: instantTok})
	}
	return edits
}

// structural marks the bytes skip stops at: quotes and brackets.
var structural = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skip returns the end of the JSON value at i without recording anything.
// For objects and arrays it only tracks strings and bracket depth, which
// is several times faster than walking every member; the value's syntax
// is checked later by json.Valid. Unbalanced text returns errTruncated.
func (s *scanner) skip(i int) (int, error) {
	if i >= len(s.b) {
		return 0, errTruncated
	}
	switch s.b[i] {
	case '"':
		return s.str(i)
	case '{', '[':
	default:
		return s.value(i, 0, nil)
	}
	depth := 0
	for i < len(s.b) {
		c := s.b[i]
		if !structural[c] {
			i++
			continue
		}
		switch c {
		case '"':
			end, err := s.str(i)
			if err != nil {
				return 0, err
			}
			i = end
			continue
		case '{', '[':
			depth++
			if depth > maxDepth {
				return 0, sdk.Invalidf("", "read resource: nesting deeper than %d levels", maxDepth)
			}
		case '}', ']':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		}
		i++
	}
	return 0, errTruncated
}
