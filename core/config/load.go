package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable that sets a key.
const EnvPrefix = "HUB_"

// Error is an invalid configuration: one Problem per bad key.
type Error struct {
	// File is the configuration file, or empty when there was none.
	File     string
	Problems []Problem
}

// Problem is one bad key.
type Problem struct {
	// Key is the key's dotted path, such as "server.listen", or empty for
	// the document as a whole.
	Key string
	// Message describes the fault in the value and the values accepted.
	Message string
	// Env is the environment variable that set the value, or empty when
	// the value came from the file.
	Env string
}

func (p Problem) String() string {
	var b strings.Builder
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	if p.Env != "" {
		fmt.Fprintf(&b, " (set by %s)", p.Env)
	}
	return b.String()
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration")
	if e.File != "" {
		fmt.Fprintf(&b, " in %s", e.File)
	}
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Load reads the configuration file at path (none when path is empty),
// applies the HUB_* variables of environ (in os.Environ form), validates the
// result and decodes it. It returns the HUB_* variables that name no key,
// so the caller can warn about them.
func Load(path string, environ []string) (*Config, []string, error) {
	doc, err := readFile(path)
	if err != nil {
		return nil, nil, err
	}
	sources, unknown, problems := applyEnv(doc, environ)
	if len(problems) > 0 {
		return nil, unknown, &Error{File: path, Problems: problems}
	}

	data, marshalErr := json.Marshal(doc)
	if marshalErr != nil {
		return nil, unknown, fmt.Errorf("load configuration %s: %w", path, marshalErr)
	}
	if problems := validate(data, sources); len(problems) > 0 {
		return nil, unknown, &Error{File: path, Problems: problems}
	}

	var cfg Config
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&cfg); err != nil {
		return nil, unknown, fmt.Errorf("load configuration %s: %w", path, err)
	}
	return &cfg, unknown, nil
}

// readFile parses the YAML file into a JSON-compatible document.
func readFile(path string) (map[string]any, error) {
	doc := map[string]any{}
	if path == "" {
		return doc, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load configuration: %w", err)
	}

	var parsed any
	if err := yaml.Unmarshal(data, &parsed); err != nil {
		return nil, &Error{File: path, Problems: []Problem{{Message: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	switch parsed := parsed.(type) {
	case nil:
		return doc, nil
	case map[string]any:
		return parsed, nil
	}
	return nil, &Error{File: path, Problems: []Problem{{Message: fmt.Sprintf("the document must be a mapping of sections, got %s", yamlKind(parsed))}}}
}

func yamlKind(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case string:
		return "a string"
	}
	return fmt.Sprintf("a %T", v)
}

// applyEnv sets the keys named by HUB_* variables in doc. It returns which
// variable set which key, the HUB_* variables that name no key, and the
// variables that cannot be applied. A value that does not parse as the key's
// type is set as a string, so that validation reports it with the key.
func applyEnv(doc map[string]any, environ []string) (map[string]string, []string, []Problem) {
	keys := envKeys()
	sources := map[string]string{}
	var unknown []string
	var problems []Problem
	for _, entry := range environ {
		name, value, ok := strings.Cut(entry, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		leaf, known := keys[name]
		if !known {
			unknown = append(unknown, name)
			continue
		}
		if err := setPath(doc, strings.Split(leaf.key, "."), leaf.parse(value)); err != nil {
			problems = append(problems, Problem{Key: leaf.key, Message: err.Error(), Env: name})
			continue
		}
		sources[leaf.key] = name
	}
	slices.Sort(unknown)
	return sources, unknown, problems
}

func setPath(doc map[string]any, path []string, value any) error {
	current := doc
	for _, part := range path[:len(path)-1] {
		next, exists := current[part]
		if !exists || next == nil {
			child := map[string]any{}
			current[part] = child
			current = child
			continue
		}
		child, ok := next.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot set a key inside %q because the file gives it a value that is not a mapping", part)
		}
		current = child
	}
	current[path[len(path)-1]] = value
	return nil
}

// leafKey is a key whose value is not an object, with the JSON types the
// schema allows for it.
type leafKey struct {
	key   string
	types []string
}

// parse reads an environment value as the first type of the key that
// accepts it, or returns it as a string. Lists are comma-separated and
// objects are JSON.
func (l leafKey) parse(value string) any {
	for _, typ := range l.types {
		switch typ {
		case "boolean":
			if b, err := strconv.ParseBool(value); err == nil {
				return b
			}
		case "integer":
			if n, err := strconv.ParseInt(value, 10, 64); err == nil {
				return n
			}
		case "number":
			if f, err := strconv.ParseFloat(value, 64); err == nil {
				return f
			}
		case "array":
			return splitList(value)
		case "object":
			var object map[string]any
			if json.Unmarshal([]byte(value), &object) == nil {
				return object
			}
		}
	}
	return value
}

// splitList reads a comma-separated environment value as a list, trimming
// spaces and dropping empty items.
func splitList(value string) []any {
	items := []any{}
	for item := range strings.SplitSeq(value, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}
