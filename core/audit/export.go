package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Format is an export format.
type Format int

// Export formats.
const (
	// FormatBundle writes one FHIR Bundle of type "collection".
	FormatBundle Format = iota + 1
	// FormatNDJSON writes one AuditEvent per line (newline-delimited
	// JSON, as in FHIR bulk data).
	FormatNDJSON
)

// Export writes the events that match f as FHIR R4 AuditEvent resources,
// in chain order, page by page. f.Cursor and f.Limit are ignored. It
// returns the number of events written.
func (l *Log) Export(ctx context.Context, w io.Writer, f Filter, format Format) (int, error) {
	if format != FormatBundle && format != FormatNDJSON {
		return 0, fmt.Errorf("export audit events: unknown format %d", format)
	}
	bw := bufio.NewWriter(w)
	if format == FormatBundle {
		bw.WriteString(`{"resourceType":"Bundle","type":"collection","timestamp":` + strconv.Quote(l.now().UTC().Format(time.RFC3339)) + `,"entry":[`)
	}

	f.Cursor, f.Limit = "", maxLimit
	n := 0
	for {
		page, err := l.Query(ctx, f)
		if err != nil {
			return n, fmt.Errorf("export audit events: %w", err)
		}
		for i := range page.Records {
			data, err := json.Marshal(AuditEvent(&page.Records[i]))
			if err != nil {
				return n, fmt.Errorf("export audit event %s: %w", page.Records[i].ID, err)
			}
			if format == FormatBundle {
				if n > 0 {
					bw.WriteByte(',')
				}
				bw.WriteString(`{"fullUrl":"urn:uuid:` + page.Records[i].ID + `","resource":`)
				bw.Write(data)
				bw.WriteByte('}')
			} else {
				bw.Write(data)
				bw.WriteByte('\n')
			}
			n++
		}
		if page.Next == "" {
			break
		}
		f.Cursor = page.Next
	}
	if format == FormatBundle {
		bw.WriteString("]}\n")
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export audit events: %w", err)
	}
	return n, nil
}

// Code systems used in exported AuditEvents.
const (
	systemAuditEventType = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	systemInteraction    = "http://hl7.org/fhir/restful-interaction"
	systemActReason      = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
	systemObjectRole     = "http://terminology.hl7.org/CodeSystem/object-role"
	systemHubAction      = "urn:healthhub:audit-action"
)

// fhirInteractions are the actions that are FHIR RESTful interactions, with
// their AuditEvent.action code (C, R, U, D or E).
var fhirInteractions = map[string]string{
	"create": "C", "read": "R", "vread": "R", "update": "U", "patch": "U", "delete": "D",
	"history": "R", "history-instance": "R", "history-type": "R", "search": "E", "search-type": "E",
	"transaction": "E", "batch": "E", "operation": "E",
}

// AuditEvent maps a record to a FHIR R4 AuditEvent. Hub fields without an
// AuditEvent element (request id, decision, obligations, model, payload
// hash, chain position) go into entity.detail of the first entity.
func AuditEvent(r *Record) map[string]any {
	subtypeSystem, action := systemHubAction, "E"
	if code, ok := fhirInteractions[r.Action]; ok {
		subtypeSystem, action = systemInteraction, code
	}
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"id":           r.ID,
		"type":         map[string]any{"system": systemAuditEventType, "code": "rest", "display": "RESTful Operation"},
		"subtype":      []any{map[string]any{"system": subtypeSystem, "code": r.Action}},
		"action":       action,
		"recorded":     r.Time.UTC().Format(time.RFC3339Nano),
		"outcome":      outcomeCode(r),
		"agent":        agents(r),
		"source":       map[string]any{"site": r.Tenant, "observer": map[string]any{"display": "HealthHub"}},
		"entity":       entities(r),
	}
	if desc := outcomeDescription(r); desc != "" {
		ev["outcomeDesc"] = desc
	}
	if r.PurposeOfUse != "" {
		ev["purposeOfEvent"] = []any{map[string]any{"coding": []any{map[string]any{"system": systemActReason, "code": r.PurposeOfUse}}}}
	}
	return ev
}

// outcomeCode maps the outcome to AuditEvent.outcome: 0 success, 4 minor
// failure (the policy denied the request), 8 serious failure.
func outcomeCode(r *Record) string {
	switch {
	case r.Outcome == "success" && r.Decision == Allow:
		return "0"
	case r.Decision == Deny:
		return "4"
	default:
		return "8"
	}
}

func outcomeDescription(r *Record) string {
	if r.Outcome == "success" && len(r.Reasons) == 0 {
		return ""
	}
	desc := string(r.Decision) + ", " + r.Outcome
	for _, reason := range r.Reasons {
		desc += "; " + reason
	}
	return desc
}

func agents(r *Record) []any {
	user := map[string]any{"requestor": true}
	if r.Subject != "" {
		user["who"] = map[string]any{"identifier": map[string]any{"value": r.Subject}}
	}
	if r.DecisionID != "" {
		user["policy"] = []any{r.DecisionID}
	}
	if len(r.Roles) > 0 {
		roles := make([]any, len(r.Roles))
		for i, role := range r.Roles {
			roles[i] = map[string]any{"text": role}
		}
		user["role"] = roles
	}
	out := []any{user}
	if r.Provider != "" {
		display := r.Provider
		if r.ProviderVersion != "" {
			display += " " + r.ProviderVersion
		}
		out = append(out, map[string]any{"requestor": false, "who": map[string]any{"display": display}})
	}
	return out
}

func entities(r *Record) []any {
	details := []any{
		detail("chain-seq", strconv.FormatInt(r.Seq, 10)),
		detail("chain-hash", r.Hash),
		detail("decision", string(r.Decision)),
	}
	for _, d := range [][2]string{{"request-id", r.RequestID}, {"model-id", r.ModelID}, {"payload-sha256", r.PayloadSHA256}} {
		if d[1] != "" {
			details = append(details, detail(d[0], d[1]))
		}
	}
	for _, o := range r.Obligations {
		data, _ := json.Marshal(o)
		details = append(details, detail("obligation", string(data)))
	}
	if r.Level != "" {
		details = append(details, detail("audit-level", r.Level))
	}
	if r.Review {
		details = append(details, detail("review", "true"))
	}
	if r.SubjectTenant != "" {
		details = append(details, detail("subject-tenant", r.SubjectTenant))
	}
	if r.BreakGlassReason != "" {
		details = append(details, detail("break-glass-reason", r.BreakGlassReason))
	}
	if r.PolicyRevision != "" {
		details = append(details, detail("policy-revision", r.PolicyRevision))
	}

	what := map[string]any{"detail": details}
	if r.ResourceType != "" && r.ResourceID != "" {
		what["what"] = map[string]any{"reference": r.ResourceType + "/" + r.ResourceID}
	} else if r.ResourceType != "" {
		what["what"] = map[string]any{"display": r.ResourceType}
	}
	out := []any{what}
	if r.Patient != "" {
		out = append(out, map[string]any{
			"what": map[string]any{"reference": "Patient/" + r.Patient},
			"role": map[string]any{"system": systemObjectRole, "code": "1", "display": "Patient"},
		})
	}
	return out
}

func detail(name, value string) map[string]any {
	return map[string]any{"type": name, "valueString": value}
}
