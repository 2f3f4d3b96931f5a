package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/healthhub/healthhub/sdk"
)

// decodeBundle reads the parts of a Bundle the store uses. Entry resources
// are slices of body, not copies, so that a large bundle is neither copied
// nor decoded twice. The scanner checks the Bundle's structure; every other
// member value is checked with json.Valid here, and each resource later,
// when it is prepared on all CPUs.
func decodeBundle(body []byte) (*bundleJSON, error) {
	s := &scanner{b: body, res: &scanResult{}, quiet: true}
	start := s.skipSpace(0)
	members, end, err := s.members(start)
	if err != nil {
		return nil, syntaxError(body, err)
	}
	if s.skipSpace(end) != len(body) {
		return nil, structureError("", fmt.Errorf("text after the closing brace at byte %d", end))
	}

	b := &bundleJSON{}
	for _, m := range members {
		value := body[m.value.start:m.value.end]
		switch m.key {
		case "resourceType":
			err = json.Unmarshal(value, &b.ResourceType)
		case "type":
			err = json.Unmarshal(value, &b.Type)
		case "entry":
			b.Entry, err = decodeEntries(s, m.value.start)
		default:
			err = checkValid(value)
		}
		if err != nil {
			return nil, structureError("/"+m.key, err)
		}
	}
	return b, nil
}

// syntaxError describes a body the scanner could not walk, with the byte
// offset that encoding/json reports for the first syntax error.
func syntaxError(body []byte, scanErr error) error {
	var v any
	var syntax *json.SyntaxError
	if err := json.Unmarshal(body, &v); errors.As(err, &syntax) {
		return structureError("", fmt.Errorf("byte %d: %v", syntax.Offset, syntax))
	}
	return structureError("", scanErr)
}

func checkValid(value []byte) error {
	if !json.Valid(value) {
		return fmt.Errorf("invalid JSON")
	}
	return nil
}

func decodeEntries(s *scanner, start int) ([]entryJSON, error) {
	elements, err := s.elements(start)
	if err != nil {
		return nil, err
	}
	entries := make([]entryJSON, len(elements))
	for i, el := range elements {
		members, _, err := s.members(el.start)
		if err != nil {
			return nil, structureError(fmt.Sprintf("/entry/%d", i), err)
		}
		for _, m := range members {
			value := s.b[m.value.start:m.value.end]
			switch m.key {
			case "fullUrl":
				err = json.Unmarshal(value, &entries[i].FullURL)
			case "resource":
				entries[i].Resource = json.RawMessage(value)
			case "request":
				entries[i].Request = &requestJSON{}
				err = json.Unmarshal(value, entries[i].Request)
			default:
				err = checkValid(value)
			}
			if err != nil {
				return nil, structureError(fmt.Sprintf("/entry/%d/%s", i, m.key), err)
			}
		}
	}
	return entries, nil
}

func structureError(path string, err error) error {
	if o := sdk.AsOutcome(err); o != nil && o.Issues[0].Path != "" {
		return err
	}
	where := path
	if where == "" {
		where = "body"
	}
	return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeStructure, Path: path,
		Diagnostics: fmt.Sprintf("process bundle: %s is not valid: %v: send a JSON Bundle", where, err)})
}

// members returns the members of the object at i and the object's end.
// It checks the object's punctuation; values are checked by the caller.
func (s *scanner) members(i int) ([]member, int, error) {
	if i >= len(s.b) || s.b[i] != '{' {
		return nil, 0, fmt.Errorf("expected an object")
	}
	var out []member
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == '}' {
		return out, i + 1, nil
	}
	for i < len(s.b) && s.b[i] == '"' {
		keyEnd, err := s.str(i)
		if err != nil {
			return nil, 0, err
		}
		name := keyName(s.b[i:keyEnd])
		colon := s.skipSpace(keyEnd)
		if colon >= len(s.b) || s.b[colon] != ':' {
			return nil, 0, fmt.Errorf("expected ':' after member %q", name)
		}
		start := s.skipSpace(colon + 1)
		end, err := s.value(start, 1, name)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, member{key: string(name), value: span{start, end}})
		i = s.skipSpace(end)
		switch {
		case i < len(s.b) && s.b[i] == ',':
			i = s.skipSpace(i + 1)
		case i < len(s.b) && s.b[i] == '}':
			return out, i + 1, nil
		default:
			return nil, 0, fmt.Errorf("expected ',' or '}' after member %q", name)
		}
	}
	return nil, 0, fmt.Errorf("expected a member name at byte %d", i)
}

// elements returns the spans of the elements of the array at i. It checks
// the array's punctuation; values are checked by the caller.
func (s *scanner) elements(i int) ([]span, error) {
	if i >= len(s.b) || s.b[i] != '[' {
		return nil, fmt.Errorf("expected an array")
	}
	var out []span
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == ']' {
		return out, nil
	}
	for i < len(s.b) {
		end, err := s.value(i, 1, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, span{i, end})
		i = s.skipSpace(end)
		switch {
		case i < len(s.b) && s.b[i] == ',':
			i = s.skipSpace(i + 1)
		case i < len(s.b) && s.b[i] == ']':
			return out, nil
		default:
			return nil, fmt.Errorf("expected ',' or ']' after element %d", len(out)-1)
		}
	}
	return nil, fmt.Errorf("array ends early")
}
