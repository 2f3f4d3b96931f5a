package obligation

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/healthhub/healthhub/core/policy"
)

// ErrInvalidPath is returned when an obligation path does not parse. The
// payload must then not be sent: the hub cannot clean it.
var ErrInvalidPath = errors.New("invalid obligation path")

type pathRule struct {
	path fhirPath
	rule string
	mode string // precision for dates, replace mode for free text
}

// plan is the obligations of a decision with their paths parsed.
type plan struct {
	scrub, pseudonymize, generalize, mask, remove []pathRule
	pseudonymRule                                 string
}

func newPlan(ob policy.Obligations) (*plan, error) {
	p := &plan{}
	add := func(list *[]pathRule, path, rule, mode string) error {
		parsed, err := parsePath(path)
		if err != nil {
			return fmt.Errorf("%w: rule %s: %w", ErrInvalidPath, rule, err)
		}
		*list = append(*list, pathRule{parsed, rule, mode})
		return nil
	}
	var errs []error
	for _, r := range ob.ScrubText {
		errs = append(errs, add(&p.scrub, r.Path, r.Rule, r.Replace))
	}
	for _, r := range ob.Pseudonymize {
		errs = append(errs, add(&p.pseudonymize, r.Path, r.Rule, ""))
	}
	for _, r := range ob.GeneralizeDates {
		errs = append(errs, add(&p.generalize, r.Path, r.Rule, r.Precision))
	}
	for _, r := range ob.Mask {
		errs = append(errs, add(&p.mask, r.Path, r.Rule, ""))
	}
	for _, r := range ob.Remove {
		errs = append(errs, add(&p.remove, r.Path, r.Rule, ""))
	}
	if len(p.pseudonymize) > 0 {
		p.pseudonymRule = p.pseudonymize[0].rule
	}
	return p, errors.Join(errs...)
}

// applyResource applies the plan to one resource: free text is scrubbed
// first, while the values to look for are still there, and elements are
// removed last.
func (s *Session) applyResource(p *plan, r resourceAt, report *Report) {
	resourceType := r.node.str("resourceType")
	root := &location{value: r.node}
	each := func(rules []pathRule, wholeArrays bool, apply func(loc *location, pointer string, rule pathRule)) {
		for _, rule := range rules {
			if !rule.path.appliesTo(resourceType) {
				continue
			}
			targets := rule.path.resolve(root, wholeArrays)
			pointers := make([]string, len(targets))
			for i, loc := range targets {
				pointers[i] = pointerOf(r.pointer, loc)
			}
			for i, loc := range targets {
				apply(loc, pointers[i], rule)
			}
		}
	}
	each(p.scrub, false, func(loc *location, ptr string, rule pathRule) { s.scrubAt(loc, ptr, rule, report) })
	each(p.pseudonymize, false, func(loc *location, ptr string, rule pathRule) { s.pseudonymizeAt(loc, ptr, rule, report) })
	seen := map[*node]bool{}
	each(p.generalize, false, func(loc *location, ptr string, rule pathRule) { generalizeAt(loc, ptr, rule, seen, report) })
	each(p.mask, false, func(loc *location, ptr string, rule pathRule) { maskAt(loc, ptr, rule, report) })
	each(p.remove, true, func(loc *location, ptr string, rule pathRule) { removeAt(loc, ptr, rule, report) })
}

func (s *Session) scrubAt(loc *location, pointer string, rule pathRule, report *Report) {
	v := loc.value
	switch {
	case v.kind == kindString:
		out, found := s.scrubString(v.text, rule.mode)
		if len(found) > 0 {
			v.text = out
			report.add(Change{Rule: rule.rule, Action: ActionScrub, Path: pointer, Found: found})
		}
	case v.kind == kindObject && (v.get("data") != nil || v.get("contentType") != nil):
		s.scrubAttachment(v, pointer, rule, report)
	}
}

// scrubAttachment scrubs an Attachment: its title, and its data when that
// is text. Data that is not text, or not valid base64, cannot be scrubbed
// and is removed.
func (s *Session) scrubAttachment(a *node, pointer string, rule pathRule, report *Report) {
	if title := a.get("title"); title != nil && title.kind == kindString {
		s.scrubAt(&location{value: title}, pointer+"/title", rule, report)
	}
	data := a.get("data")
	if data == nil || data.kind != kindString {
		return
	}
	raw, err := base64.StdEncoding.DecodeString(data.text)
	if err != nil || !strings.HasPrefix(a.str("contentType"), "text/") {
		a.remove("data")
		report.add(Change{Rule: rule.rule, Action: ActionRemove, Path: pointer + "/data"})
		return
	}
	out, found := s.scrubString(string(raw), rule.mode)
	if len(found) > 0 {
		data.text = base64.StdEncoding.EncodeToString([]byte(out))
		report.add(Change{Rule: rule.rule, Action: ActionScrub, Path: pointer + "/data", Found: found})
	}
}

// pseudonymizeAt replaces an Identifier's value, a Reference's id or a
// string (such as a resource id) by its token.
func (s *Session) pseudonymizeAt(loc *location, pointer string, rule pathRule, report *Report) {
	v := loc.value
	switch v.kind {
	case kindString:
		v.text = s.token(v.text)
		report.add(Change{Rule: rule.rule, Action: ActionPseudonymize, Path: pointer})
	case kindObject:
		if value := v.get("value"); value != nil && value.kind == kindString {
			value.text = s.token(value.text)
			report.add(Change{Rule: rule.rule, Action: ActionPseudonymize, Path: pointer + "/value"})
		}
		if ref := v.get("reference"); ref != nil && ref.kind == kindString {
			out, ok := replaceID(ref.text, func(id string) (string, bool) { return s.token(id), true })
			if ok {
				ref.text = out
				report.add(Change{Rule: rule.rule, Action: ActionPseudonymize, Path: pointer + "/reference"})
			}
		}
	}
}

// fhirDate matches FHIR date, dateTime and instant values.
var fhirDate = regexp.MustCompile(`^(\d{4})(?:-(\d{2})(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?)?)?$`)

// instantElements are the common FHIR elements of type instant, which must
// keep a full timestamp after generalization.
var instantElements = []string{"issued", "lastUpdated", "recorded", "timestamp", "when"}

// generalizeDate cuts a FHIR date to precision ("year" or "month").
func generalizeDate(value, element, precision string) (string, bool) {
	m := fhirDate.FindStringSubmatch(value)
	if m == nil {
		return value, false
	}
	year, month := m[1], m[2]
	out := year
	if precision == policy.PrecisionMonth && month != "" {
		out = year + "-" + month
	}
	if strings.Contains(value, "T") && slices.Contains(instantElements, element) {
		if precision != policy.PrecisionMonth || month == "" {
			month = "01"
		}
		out = year + "-" + month + "-01T00:00:00Z"
	}
	return out, out != value
}

// generalizeAt generalizes the date strings at and below loc, each once.
func generalizeAt(loc *location, pointer string, rule pathRule, seen map[*node]bool, report *Report) {
	var walk func(n *node, element, ptr string)
	walk = func(n *node, element, ptr string) {
		if seen[n] {
			return
		}
		seen[n] = true
		switch n.kind {
		case kindString:
			if out, changed := generalizeDate(n.text, element, rule.mode); changed {
				n.text = out
				report.add(Change{Rule: rule.rule, Action: ActionGeneralize, Path: ptr})
			}
		case kindObject:
			if n.get("resourceType") != nil && ptr != pointer {
				return
			}
			for _, m := range n.members {
				walk(m.value, m.key, ptr+"/"+escapePointer(m.key))
			}
		case kindArray:
			for i, item := range n.items {
				walk(item, element, fmt.Sprintf("%s/%d", ptr, i))
			}
		}
	}
	walk(loc.value, loc.memberKey(), pointer)
}

const dataAbsentReasonURL = "http://hl7.org/fhir/StructureDefinition/data-absent-reason"

// maskedExtension returns an element whose only content is the
// data-absent-reason extension with code "masked".
func maskedExtension() *node {
	ext := &node{kind: kindObject, members: []member{
		{"url", stringNode(dataAbsentReasonURL)},
		{"valueCode", stringNode("masked")},
	}}
	return &node{kind: kindObject, members: []member{{"extension", &node{kind: kindArray, items: []*node{ext}}}}}
}

// maskAt replaces the value at loc by the data-absent-reason "masked": a
// complex element becomes an element with only that extension, a
// primitive moves the extension to its _element sibling, as FHIR JSON
// represents primitive extensions.
func maskAt(loc *location, pointer string, rule pathRule, report *Report) {
	switch {
	case loc.value.kind == kindObject:
		*loc.value = *maskedExtension()
	case !loc.inArray():
		loc.parent.remove(loc.key)
		loc.parent.set("_"+loc.key, maskedExtension())
	default:
		owner, key := loc.array.parent, loc.array.key
		loc.value.kind, loc.value.text = kindNull, ""
		shadow := owner.get("_" + key)
		if shadow == nil || shadow.kind != kindArray {
			shadow = &node{kind: kindArray}
			owner.set("_"+key, shadow)
		}
		for len(shadow.items) < len(loc.parent.items) {
			shadow.items = append(shadow.items, &node{kind: kindNull})
		}
		shadow.items[loc.index] = maskedExtension()
	}
	report.add(Change{Rule: rule.rule, Action: ActionMask, Path: pointer})
}

// removeAt deletes the element at loc, with its _element sibling. An array
// left empty is deleted too, since FHIR JSON has no empty arrays.
func removeAt(loc *location, pointer string, rule pathRule, report *Report) {
	if !loc.inArray() {
		if !loc.parent.remove(loc.key) {
			return
		}
		loc.parent.remove("_" + loc.key)
		report.add(Change{Rule: rule.rule, Action: ActionRemove, Path: pointer})
		return
	}
	arr := loc.parent
	i := slices.Index(arr.items, loc.value)
	if i < 0 {
		return
	}
	arr.items = slices.Delete(arr.items, i, i+1)
	if len(arr.items) == 0 {
		loc.array.parent.remove(loc.array.key)
	}
	report.add(Change{Rule: rule.rule, Action: ActionRemove, Path: pointer})
}
