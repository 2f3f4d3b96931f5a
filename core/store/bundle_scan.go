package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/healthhub/healthhub/sdk"
)

// decodeBundle reads the parts of a Bundle the store uses. Entry resources
// are slices of body, not copies, and the scanner walks each byte once, so
// that a large bundle is neither copied nor scanned twice here. The scanner
// checks the Bundle's structure, and json.Valid checks every other member
// value here. Each resource is checked later, when it is prepared on all
// CPUs.
func decodeBundle(body []byte) (*bundleJSON, error) {
	s := &scanner{b: body, res: &scanResult{}, quiet: true}
	b := &bundleJSON{}
	var fieldErr error
	end, err := s.walkMembers(s.skipSpace(0), func(name []byte, start int) (int, error) {
		if string(name) == "entry" {
			entries, end, err := decodeEntries(s, start)
			b.Entry = entries
			return end, err
		}
		end, err := s.skip(start)
		if err != nil {
			return 0, err
		}
		value := body[start:end]
		switch string(name) {
		case "resourceType":
			err = json.Unmarshal(value, &b.ResourceType)
		case "type":
			err = json.Unmarshal(value, &b.Type)
		default:
			err = checkValid(value)
		}
		if err != nil && fieldErr == nil {
			fieldErr = structureError("/"+string(name), err)
		}
		return end, nil
	})
	if err != nil {
		return nil, syntaxError(body, err)
	}
	if s.skipSpace(end) != len(body) {
		return nil, structureError("", fmt.Errorf("text after the closing brace at byte %d", end))
	}
	if fieldErr != nil {
		return nil, fieldErr
	}
	return b, nil
}

// decodeEntries reads the entry array at start and returns its end.
func decodeEntries(s *scanner, start int) ([]entryJSON, int, error) {
	var entries []entryJSON
	var fieldErr error
	end, err := s.walkElements(start, func(elStart int) (int, error) {
		i := len(entries)
		entries = append(entries, entryJSON{})
		e := &entries[i]
		return s.walkMembers(elStart, func(name []byte, vStart int) (int, error) {
			vEnd, err := s.skip(vStart)
			if err != nil {
				return 0, err
			}
			value := s.b[vStart:vEnd]
			switch string(name) {
			case "fullUrl":
				err = json.Unmarshal(value, &e.FullURL)
			case "resource":
				e.Resource = json.RawMessage(value)
			case "request":
				e.Request = &requestJSON{}
				err = json.Unmarshal(value, e.Request)
			default:
				err = checkValid(value)
			}
			if err != nil && fieldErr == nil {
				fieldErr = structureError(fmt.Sprintf("/entry/%d/%s", i, name), err)
			}
			return vEnd, nil
		})
	})
	if err == nil {
		err = fieldErr
	}
	return entries, end, err
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

// walkMembers walks the object at i: for each member it calls value with
// the member's name and the start of its value, and value returns the
// value's end. It checks the object's punctuation and returns its end.
func (s *scanner) walkMembers(i int, value func(name []byte, start int) (int, error)) (int, error) {
	if i >= len(s.b) || s.b[i] != '{' {
		return 0, fmt.Errorf("expected an object")
	}
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == '}' {
		return i + 1, nil
	}
	for i < len(s.b) && s.b[i] == '"' {
		keyEnd, err := s.str(i)
		if err != nil {
			return 0, err
		}
		name := keyName(s.b[i:keyEnd])
		colon := s.skipSpace(keyEnd)
		if colon >= len(s.b) || s.b[colon] != ':' {
			return 0, fmt.Errorf("expected ':' after member %q", name)
		}
		end, err := value(name, s.skipSpace(colon+1))
		if err != nil {
			return 0, err
		}
		i = s.skipSpace(end)
		switch {
		case i < len(s.b) && s.b[i] == ',':
			i = s.skipSpace(i + 1)
		case i < len(s.b) && s.b[i] == '}':
			return i + 1, nil
		default:
			return 0, fmt.Errorf("expected ',' or '}' after member %q", name)
		}
	}
	return 0, fmt.Errorf("expected a member name at byte %d", i)
}

// walkElements walks the array at i, calling value with the start of each
// element; value returns the element's end. It checks the array's
// punctuation and returns its end.
func (s *scanner) walkElements(i int, value func(start int) (int, error)) (int, error) {
	if i >= len(s.b) || s.b[i] != '[' {
		return 0, fmt.Errorf("expected an array")
	}
	i = s.skipSpace(i + 1)
	if i < len(s.b) && s.b[i] == ']' {
		return i + 1, nil
	}
	for n := 0; i < len(s.b); n++ {
		end, err := value(i)
		if err != nil {
			return 0, err
		}
		i = s.skipSpace(end)
		switch {
		case i < len(s.b) && s.b[i] == ',':
			i = s.skipSpace(i + 1)
		case i < len(s.b) && s.b[i] == ']':
			return i + 1, nil
		default:
			return 0, fmt.Errorf("expected ',' or ']' after element %d", n)
		}
	}
	return 0, fmt.Errorf("array ends early")
}
