package schema

import (
	"strconv"
	"strings"
)

// pointer builds an RFC 6901 JSON Pointer from reference tokens, escaping
// "~" as "~0" and "/" as "~1".
func pointer(tokens []string) string {
	if len(tokens) == 0 {
		return ""
	}
	var b strings.Builder
	for _, tok := range tokens {
		b.WriteByte('/')
		if strings.ContainsAny(tok, "~/") {
			tok = strings.ReplaceAll(tok, "~", "~0")
			tok = strings.ReplaceAll(tok, "/", "~1")
		}
		b.WriteString(tok)
	}
	return b.String()
}

// expression builds the FHIRPath-like form of tokens, such as
// "Patient.name[0].given[1]", walking doc to tell array indexes from member
// names. It uses the simple FHIRPath subset that OperationOutcome.issue.
// expression allows: element names, indexes and the "." child accessor. A
// name that is not a FHIRPath identifier is written in backticks.
func expression(resourceType string, doc any, tokens []string) string {
	var b strings.Builder
	b.WriteString(resourceType)
	cur := doc
	for _, tok := range tokens {
		switch v := cur.(type) {
		case []any:
			b.WriteByte('[')
			b.WriteString(tok)
			b.WriteByte(']')
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(v) {
				cur = nil
				continue
			}
			cur = v[i]
		default:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			writeIdentifier(&b, tok)
			if obj, ok := v.(map[string]any); ok {
				cur = obj[tok]
			} else {
				cur = nil
			}
		}
	}
	return b.String()
}

func writeIdentifier(b *strings.Builder, name string) {
	if isIdentifier(name) {
		b.WriteString(name)
		return
	}
	b.WriteByte('`')
	for _, r := range name {
		switch r {
		case '`', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('`')
}

func isIdentifier(name string) bool {
	if name == "" {
		return false
	}
	for i, c := range []byte(name) {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
