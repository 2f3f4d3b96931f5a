package obligation

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

type segmentKind uint8

const (
	segmentName        segmentKind = iota // an element name
	segmentChoice                         // name[x]
	segmentDescendants                    // descendants()
	segmentExtension                      // extension('url')
)

type segment struct {
	kind segmentKind
	name string // element name, or the prefix of a choice
	url  string // for extension('url')
}

// fhirPath is a parsed obligation path.
type fhirPath struct {
	text     string
	resource string // a resource type, "Resource" or "DomainResource"
	segments []segment
}

// parsePath parses the FHIRPath subset the package doc describes.
func parsePath(text string) (fhirPath, error) {
	parts, err := splitPath(text)
	if err != nil {
		return fhirPath{}, err
	}
	if len(parts) < 2 {
		return fhirPath{}, fmt.Errorf("path %q: want a resource type and at least one element, such as Patient.name", text)
	}
	p := fhirPath{text: text, resource: parts[0]}
	if !isName(p.resource) || !unicode.IsUpper(rune(p.resource[0])) {
		return fhirPath{}, fmt.Errorf("path %q: %q is not a resource type", text, p.resource)
	}
	for _, part := range parts[1:] {
		seg, err := parseSegment(part)
		if err != nil {
			return fhirPath{}, fmt.Errorf("path %q: %w", text, err)
		}
		p.segments = append(p.segments, seg)
	}
	return p, nil
}

// splitPath splits at the dots outside quotes.
func splitPath(text string) ([]string, error) {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\'':
			quoted = !quoted
		case '.':
			if !quoted {
				parts = append(parts, text[start:i])
				start = i + 1
			}
		}
	}
	if quoted {
		return nil, fmt.Errorf("path %q: unterminated quote", text)
	}
	return append(parts, text[start:]), nil
}

func parseSegment(part string) (segment, error) {
	switch {
	case part == "descendants()":
		return segment{kind: segmentDescendants}, nil
	case strings.HasPrefix(part, "extension(") && strings.HasSuffix(part, ")"):
		arg := strings.TrimSuffix(strings.TrimPrefix(part, "extension("), ")")
		url, err := unquote(arg)
		if err != nil {
			return segment{}, fmt.Errorf("extension(%s): %w", arg, err)
		}
		return segment{kind: segmentExtension, url: url}, nil
	case strings.HasSuffix(part, "[x]") && isName(strings.TrimSuffix(part, "[x]")):
		return segment{kind: segmentChoice, name: strings.TrimSuffix(part, "[x]")}, nil
	case isName(part):
		return segment{kind: segmentName, name: part}, nil
	}
	return segment{}, fmt.Errorf("%q is not an element name, name[x], descendants() or extension('url')", part)
}

func unquote(s string) (string, error) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", fmt.Errorf("want a quoted url")
	}
	return s[1 : len(s)-1], nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

// appliesTo reports whether the path addresses resources of type t.
func (p fhirPath) appliesTo(t string) bool {
	switch p.resource {
	case "Resource":
		return true
	case "DomainResource":
		return t != "Bundle" && t != "Binary" && t != "Parameters"
	}
	return p.resource == t
}

// location is the place of a value in the tree: a member of an object, or
// an item of an array whose own location is array.
type location struct {
	parent *node     // the object or array that holds value
	up     *location // the location of parent, for an object member
	key    string    // the member key, for an object member
	index  int       // the item index, for an array item
	array  *location // the location of the array, for an array item
	value  *node
}

func (l *location) inArray() bool { return l.array != nil }

// memberKey is the element name the value belongs to: its own key, or the
// key of its array.
func (l *location) memberKey() string {
	if l.array != nil {
		return l.array.key
	}
	return l.key
}

// resolve returns the locations the path selects in the resource at root.
// With wholeArrays, a final element name that holds an array selects the
// array itself, not its items.
func (p fhirPath) resolve(root *location, wholeArrays bool) []*location {
	current := []*location{root}
	for i, seg := range p.segments {
		last := i == len(p.segments)-1
		var next []*location
		for _, loc := range current {
			next = append(next, step(loc, seg, wholeArrays && last)...)
		}
		current = next
	}
	return current
}

func step(loc *location, seg segment, wholeArray bool) []*location {
	obj := loc.value
	switch seg.kind {
	case segmentDescendants:
		return descendants(loc)
	case segmentExtension:
		var out []*location
		for _, item := range children(loc, "extension", false) {
			if item.value.str("url") == seg.url {
				out = append(out, item)
			}
		}
		return out
	case segmentChoice:
		var out []*location
		if obj.kind != kindObject {
			return nil
		}
		for _, m := range obj.members {
			rest, ok := strings.CutPrefix(m.key, seg.name)
			if ok && rest != "" && unicode.IsUpper(rune(rest[0])) {
				out = append(out, children(loc, m.key, wholeArray)...)
			}
		}
		return out
	default:
		return children(loc, seg.name, wholeArray)
	}
}

// children returns the member key of the object at at, flattened into its
// items when it is an array (unless wholeArray).
func children(at *location, key string, wholeArray bool) []*location {
	obj := at.value
	if obj == nil || obj.kind != kindObject {
		return nil
	}
	value := obj.get(key)
	if value == nil {
		return nil
	}
	loc := &location{parent: obj, up: at, key: key, value: value}
	if value.kind != kindArray || wholeArray {
		return []*location{loc}
	}
	out := make([]*location, 0, len(value.items))
	for i, item := range value.items {
		out = append(out, &location{parent: value, index: i, array: loc, value: item})
	}
	return out
}

// descendants returns every location below loc, depth first, without
// entering nested resources (they are handled on their own).
func descendants(loc *location) []*location {
	var out []*location
	var walk func(l *location)
	walk = func(l *location) {
		v := l.value
		switch v.kind {
		case kindObject:
			for _, m := range v.members {
				for _, child := range children(l, m.key, false) {
					if child.value.get("resourceType") != nil {
						continue
					}
					out = append(out, child)
					walk(child)
				}
			}
		case kindArray:
			for i, item := range v.items {
				child := &location{parent: v, index: i, array: l, value: item}
				out = append(out, child)
				walk(child)
			}
		}
	}
	walk(loc)
	return out
}

// pointerOf returns the JSON Pointer of loc below the resource pointer
// base.
func pointerOf(base string, loc *location) string {
	var parts []string
	for l := loc; l != nil && l.parent != nil; {
		if l.array != nil {
			parts = append(parts, strconv.Itoa(l.index))
			l = l.array
			continue
		}
		parts = append(parts, escapePointer(l.key))
		l = l.up
	}
	var b strings.Builder
	b.WriteString(base)
	for i := len(parts) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(parts[i])
	}
	return b.String()
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
