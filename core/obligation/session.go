package obligation

import (
	"errors"
	"fmt"
	"regexp"
	"sync"

	"github.com/google/uuid"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// Actions named in a Change.
const (
	ActionRemove       = "remove"
	ActionMask         = "mask"
	ActionPseudonymize = "pseudonymize"
	ActionGeneralize   = "generalize"
	ActionScrub        = "scrub"
	ActionRestore      = "restore"
)

// ErrReidentifyNotAllowed is returned by Restore when the decision does
// not allow mapping pseudonyms back.
var ErrReidentifyNotAllowed = errors.New("re-identification is not allowed by the policy decision")

// Report lists what a session changed. It names rules, actions and paths,
// never values.
type Report struct {
	Changes []Change `json:"changes"`
}

// Change is one change to a payload.
type Change struct {
	// Rule is the policy rule that asked for it, such as
	// "egress.deidentify".
	Rule string `json:"rule"`
	// Action is one of the Action constants.
	Action string `json:"action"`
	// Path is the JSON Pointer of the changed element in the payload, or
	// "" for plain text.
	Path string `json:"path"`
	// Found counts what scrubbing or restoring replaced, by category.
	Found map[string]int `json:"found,omitempty"`
}

func (r *Report) add(c Change) { r.Changes = append(r.Changes, c) }

// Session applies obligations for one request. Pseudonyms stay the same
// for the same value across every payload of the session. A Session is safe
// for concurrent use.
type Session struct {
	mu       sync.Mutex
	known    Known
	scrubber *scrubber
	tokens   map[string]string // real value -> token
	reals    map[string]string // token -> real value
}

// NewSession returns a session that scrubs the values in known from free
// text, besides those it learns from payloads.
func NewSession(known Known) *Session {
	s := &Session{tokens: map[string]string{}, reals: map[string]string{}}
	s.known.add(known)
	s.scrubber = newScrubber(s.known)
	return s
}

// Learn adds the identifying values of a FHIR resource (a Patient,
// RelatedPerson or Person, or a Bundle holding them) to what the session
// scrubs, such as the patient of a chat whose messages are plain text.
func (s *Session) Learn(resource []byte) error {
	root, err := parseJSON(resource)
	if err != nil {
		return sdk.Invalidf("", "learn identifying values: the resource is not JSON: %v", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.learn(collectResources(root))
	return nil
}

func (s *Session) learn(resources []resourceAt) {
	var k Known
	for _, r := range resources {
		harvest(r.node, &k)
	}
	if s.known.add(k) {
		s.scrubber = newScrubber(s.known)
	}
}

// token returns the pseudonym of value, a random UUID made on first use.
// A random token, unlike a hash, carries nothing of the value.
func (s *Session) token(value string) string {
	if t, ok := s.tokens[value]; ok {
		return t
	}
	t := uuid.NewString()
	s.tokens[value] = t
	s.reals[t] = value
	return t
}

// ApplyJSON applies the obligations to a FHIR resource or Bundle and
// returns the changed JSON with the report. Payloads that need no change
// come back as they were. A payload that is not a JSON object with a
// resourceType is an *sdk.Outcome. An obligation path that does not parse
// is an error wrapping ErrInvalidPath, because the hub must not send a
// payload it could not clean.
func (s *Session) ApplyJSON(ob policy.Obligations, payload []byte) ([]byte, *Report, error) {
	report := &Report{}
	if ob.Empty() {
		return payload, report, nil
	}
	plan, err := newPlan(ob)
	if err != nil {
		return nil, nil, err
	}
	root, err := parseJSON(payload)
	if err != nil {
		return nil, nil, sdk.Invalidf("", "apply obligations: the payload is not JSON: %v", err)
	}
	if root.kind != kindObject || root.str("resourceType") == "" {
		return nil, nil, sdk.Invalidf("/resourceType", "apply obligations: the payload is not a FHIR resource: it needs a resourceType")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	resources := collectResources(root)
	s.learn(resources)
	for _, r := range resources {
		s.applyResource(plan, r, report)
	}
	s.propagate(root, plan.pseudonymRule, report)
	if len(report.Changes) == 0 {
		return payload, report, nil
	}
	return appendJSON(nil, root), report, nil
}

// ApplyText scrubs plain text, such as a chat message, under the decision's
// scrub_text obligations: plain text is one free-text element, so the paths
// do not apply. When the obligations mix modes, redact wins over
// pseudonymize. Without scrub_text obligations the text is returned as is.
func (s *Session) ApplyText(ob policy.Obligations, text string) (string, *Report) {
	report := &Report{}
	if len(ob.ScrubText) == 0 {
		return text, report
	}
	rule := ob.ScrubText[0]
	for _, r := range ob.ScrubText {
		if r.Replace == policy.ReplaceRedact {
			rule = r
			break
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, found := s.scrubString(text, rule.Replace)
	if len(found) > 0 {
		report.add(Change{Rule: rule.Rule, Action: ActionScrub, Found: found})
	}
	return out, report
}

// tokenPattern matches the pseudonym tokens a session makes.
var tokenPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

// Restore replaces the session's pseudonym tokens in text, such as a chat
// reply, by the real values. The decision must allow it
// (Obligations.Reidentify); otherwise Restore returns
// ErrReidentifyNotAllowed and the text unchanged. Tokens of other sessions
// are left alone.
func (s *Session) Restore(ob policy.Obligations, text string) (string, *Report, error) {
	report := &Report{}
	if !ob.Reidentify {
		return text, report, ErrReidentifyNotAllowed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	restored := 0
	out := tokenPattern.ReplaceAllStringFunc(text, func(t string) string {
		if real, ok := s.reals[t]; ok {
			restored++
			return real
		}
		return t
	})
	if restored > 0 {
		report.add(Change{Rule: "reidentify", Action: ActionRestore, Found: map[string]int{"token": restored}})
	}
	return out, report, nil
}

func (s *Session) scrubString(text, mode string) (string, map[string]int) {
	return s.scrubber.scrub(text, func(category, match string) string {
		if mode == policy.ReplacePseudonymize {
			return s.token(match)
		}
		return marker(category)
	})
}

// resourceAt is a resource inside a payload and its JSON Pointer.
type resourceAt struct {
	node    *node
	pointer string
}

// collectResources returns the root resource and the resources nested in
// it (Bundle entries, contained resources, Parameters resources), parents
// first.
func collectResources(root *node) []resourceAt {
	var out []resourceAt
	var walk func(n *node, pointer string)
	walk = func(n *node, pointer string) {
		switch n.kind {
		case kindObject:
			if n.get("resourceType") != nil {
				out = append(out, resourceAt{n, pointer})
			}
			for _, m := range n.members {
				walk(m.value, pointer+"/"+escapePointer(m.key))
			}
		case kindArray:
			for i, item := range n.items {
				walk(item, fmt.Sprintf("%s/%d", pointer, i))
			}
		}
	}
	walk(root, "")
	return out
}

// harvest adds the identifying values of a person resource to k.
func harvest(r *node, k *Known) {
	switch r.str("resourceType") {
	case "Patient", "RelatedPerson", "Person":
	default:
		return
	}
	for _, name := range items(r.get("name")) {
		k.Names = append(k.Names, name.str("text"), name.str("family"))
		for _, given := range items(name.get("given")) {
			if given.kind == kindString {
				k.Names = append(k.Names, given.text)
			}
		}
	}
	for _, id := range items(r.get("identifier")) {
		k.Identifiers = append(k.Identifiers, id.str("value"))
	}
	k.Identifiers = append(k.Identifiers, r.str("id"))
	for _, t := range items(r.get("telecom")) {
		if t.str("system") == "email" {
			k.Emails = append(k.Emails, t.str("value"))
		} else {
			k.Phones = append(k.Phones, t.str("value"))
		}
	}
	for _, a := range items(r.get("address")) {
		k.Addresses = append(k.Addresses, a.str("text"), a.str("city"), a.str("postalCode"))
		for _, line := range items(a.get("line")) {
			if line.kind == kindString {
				k.Addresses = append(k.Addresses, line.text)
			}
		}
	}
}

// items returns the items of an array node, or the node itself.
func items(n *node) []*node {
	switch {
	case n == nil:
		return nil
	case n.kind == kindArray:
		return n.items
	default:
		return []*node{n}
	}
}

// idPart matches the id in a reference ("Patient/123", ".../Patient/123",
// "Patient/123/_history/2") or a urn:uuid.
var idPart = regexp.MustCompile(`^(?:(.*/)?[A-Z][A-Za-z]+/|urn:uuid:)([A-Za-z0-9\-.]{1,64})(/_history/.*)?$`)

// replaceID returns s with its id part replaced by fn, when s is a
// reference or urn:uuid.
func replaceID(s string, fn func(id string) (string, bool)) (string, bool) {
	m := idPart.FindStringSubmatchIndex(s)
	if m == nil {
		return s, false
	}
	token, ok := fn(s[m[4]:m[5]])
	if !ok {
		return s, false
	}
	return s[:m[4]] + token + s[m[5]:], true
}

// propagate replaces pseudonymized ids wherever the payload refers to them
// (id, reference and fullUrl elements), so that references inside a Bundle
// still resolve after the ids were replaced.
func (s *Session) propagate(root *node, rule string, report *Report) {
	if rule == "" || len(s.tokens) == 0 {
		return
	}
	known := func(id string) (string, bool) {
		t, ok := s.tokens[id]
		return t, ok
	}
	var walk func(n *node, pointer string)
	walk = func(n *node, pointer string) {
		switch n.kind {
		case kindObject:
			for _, m := range n.members {
				p := pointer + "/" + escapePointer(m.key)
				if v := m.value; v.kind == kindString && (m.key == "reference" || m.key == "fullUrl") {
					if out, ok := replaceID(v.text, known); ok {
						v.text = out
						report.add(Change{Rule: rule, Action: ActionPseudonymize, Path: p})
					}
					continue
				}
				walk(m.value, p)
			}
		case kindArray:
			for i, item := range n.items {
				walk(item, fmt.Sprintf("%s/%d", pointer, i))
			}
		}
	}
	walk(root, "")
}
