package store

import (
	"encoding/json"
	"fmt"

	"github.com/healthhub/healthhub/sdk"
)

// decodeBundle reads the parts of a Bundle the store uses. Entry resources
// are slices of body, not copies, so that a large bundle is neither copied
// nor decoded twice.
func decodeBundle(body []byte) (*bundleJSON, error) {
	if !json.Valid(body) {
		return nil, sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeStructure,
			Diagnostics: "process bundle: body is not valid JSON: check quoting and commas"})
	}
	s := &scanner{b: body, res: &scanResult{}, quiet: true}
	members, err := s.members(s.skipSpace(0))
	if err != nil {
		return nil, sdk.Invalidf("", "process bundle: body is not a JSON object: send a Bundle")
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
		}
		if err != nil {
			return nil, structureError("/"+m.key, err)
		}
	}
	return b, nil
}

func decodeEntries(s *scanner, start int) ([]entryJSON, error) {
	elements, err := s.elements(start)
	if err != nil {
		return nil, err
	}
	entries := make([]entryJSON, len(elements))
	for i, el := range elements {
		members, err := s.members(el.start)
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
	return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeStructure, Path: path,
		Diagnostics: fmt.Sprintf("process bundle: %s has the wrong JSON type: %v", path, err)})
}

// members returns the members of the object at i.
func (s *scanner) members(i int) ([]member, error) {
	if i >= len(s.b) || s.b[i] != '{' {
		return nil, fmt.Errorf("expected an object")
	}
	var out []member
	i = s.skipSpace(i + 1)
	for i < len(s.b) && s.b[i] == '"' {
		keyEnd, err := s.str(i)
		if err != nil {
			return nil, err
		}
		name := keyName(s.b[i:keyEnd])
		start := s.skipSpace(s.skipSpace(keyEnd) + 1)
		end, err := s.value(start, 1, name)
		if err != nil {
			return nil, err
		}
		out = append(out, member{key: string(name), value: span{start, end}})
		i = s.skipSpace(end)
		if i < len(s.b) && s.b[i] == ',' {
			i = s.skipSpace(i + 1)
		}
	}
	return out, nil
}

// elements returns the spans of the elements of the array at i.
func (s *scanner) elements(i int) ([]span, error) {
	if i >= len(s.b) || s.b[i] != '[' {
		return nil, fmt.Errorf("expected an array")
	}
	var out []span
	i = s.skipSpace(i + 1)
	for i < len(s.b) && s.b[i] != ']' {
		end, err := s.value(i, 1, nil)
		if err != nil {
			return nil, err
		}
		out = append(out, span{i, end})
		i = s.skipSpace(end)
		if i < len(s.b) && s.b[i] == ',' {
			i = s.skipSpace(i + 1)
		}
	}
	return out, nil
}
