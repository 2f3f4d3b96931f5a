package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/healthhub/healthhub/sdk"
)

// Decision is the policy decision an event records.
type Decision string

// Policy decisions.
const (
	Allow Decision = "allow"
	Deny  Decision = "deny"
)

// Audit levels of Event.Level, which the policy decision sets.
const (
	LevelStandard = "standard"
	LevelHigh     = "high"
)

// Event is one audited action. Tenant, Action, Decision and Outcome are
// required; the rest is filled as far as it applies.
type Event struct {
	// ID identifies the event. Append assigns it; a value set by the
	// caller is replaced.
	ID string `json:"id"`
	// Time is when the action happened. Zero means the time of Append.
	// Stored to the microsecond.
	Time time.Time `json:"time"`
	// RequestID ties the event to the request log.
	RequestID string `json:"request_id,omitempty"`
	// Subject is the authenticated user or client that acted.
	Subject string `json:"subject,omitempty"`
	Tenant  string `json:"tenant"`
	// Action names what was done, such as "read", "search", "create" or
	// "provider.transcribe".
	Action       string `json:"action"`
	ResourceType string `json:"resource_type,omitempty"`
	ResourceID   string `json:"resource_id,omitempty"`
	// Patient is the id of the patient whose data the action touched.
	Patient string `json:"patient,omitempty"`
	// PurposeOfUse is the declared purpose, such as "TREAT" (HL7
	// v3-ActReason).
	PurposeOfUse string `json:"purpose_of_use,omitempty"`
	// DecisionID identifies the policy decision, as logged by the policy
	// engine.
	DecisionID string   `json:"decision_id,omitempty"`
	Decision   Decision `json:"decision"`
	// Reasons explain the decision, such as the rules that denied it.
	Reasons []string `json:"reasons,omitempty"`
	// Obligations are the policy obligations applied to the response.
	Obligations []Obligation `json:"obligations,omitempty"`
	// Level is the audit level the policy set: LevelStandard or LevelHigh,
	// such as for a break-glass access. Empty means LevelStandard.
	Level string `json:"level,omitempty"`
	// Review flags the event for a person to review after the fact.
	Review bool `json:"review,omitempty"`
	// SubjectTenant is the tenant of the subject, where it differs from
	// Tenant, as in a cross-tenant break-glass access.
	SubjectTenant string `json:"subject_tenant,omitempty"`
	// BreakGlassReason is the justification the subject gave for a
	// break-glass request, granted or not, for the reviewer.
	BreakGlassReason string `json:"break_glass_reason,omitempty"`
	// Roles are the subject's roles when it acted.
	Roles []string `json:"roles,omitempty"`
	// PolicyRevision identifies the policy set that decided, as
	// policy.Engine.Revision gives it.
	PolicyRevision string `json:"policy_revision,omitempty"`
	// Provider and ProviderVersion name the plugin called, if any.
	Provider        string `json:"provider,omitempty"`
	ProviderVersion string `json:"provider_version,omitempty"`
	// Outcome is "success", or the issue code of the failure, such as
	// "forbidden" or "timeout".
	Outcome string `json:"outcome"`
	// ModelID is the model an AI provider used.
	ModelID string `json:"model_id,omitempty"`
	// PayloadSHA256 is the lowercase hex SHA-256 of the payload actually
	// sent to the provider (see HashPayload). The payload itself is never
	// stored.
	PayloadSHA256 string `json:"payload_sha256,omitempty"`
}

// Obligation is one policy obligation applied to a response: the rule that
// imposed it and the fields it removed or masked, as JSON Pointers.
type Obligation struct {
	Rule   string   `json:"rule"`
	Fields []string `json:"fields,omitempty"`
}

// Receipt confirms that an event is durable in its tenant's chain.
type Receipt struct {
	EventID string
	Tenant  string
	// Seq is the event's position in the tenant's chain, from 1.
	Seq int64
	// Hash is the lowercase hex SHA-256 of the event's canonical form.
	Hash string
	Time time.Time
}

// Record is a stored event with its place in the chain.
type Record struct {
	Event
	Seq      int64  `json:"seq"`
	PrevHash string `json:"prev_hash"`
	Hash     string `json:"hash"`
	// Format is the version of the canonical form the hash covers: 1 for
	// events written before subject_tenant, break_glass_reason, roles and
	// policy_revision existed, 2 since.
	Format int `json:"format"`
}

// HashPayload returns the lowercase hex SHA-256 of payload, for
// Event.PayloadSHA256.
func HashPayload(payload []byte) string {
	sum := sha256.Sum256(payload)
	return hex.EncodeToString(sum[:])
}

// maxFieldBytes bounds each text field, so that an event stays an
// identifier record and cannot carry a document.
const maxFieldBytes = 1024

// maxReasonBytes bounds the break-glass reason: the hub accepts 500
// characters, which take up to 4 bytes each in UTF-8.
const maxReasonBytes = 2000

var (
	tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	sha256Pattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// validate checks an event before it enters the chain.
func validate(e *Event) error {
	invalid := func(path, format string, args ...any) error {
		return sdk.Invalidf(path, "append audit event: "+format, args...)
	}
	switch {
	case !tenantPattern.MatchString(e.Tenant):
		return invalid("/tenant", "invalid tenant %q: use 1 to 64 letters, digits, '.', '_' or '-'", e.Tenant)
	case e.Action == "":
		return invalid("/action", "missing action: name what was done, such as \"read\"")
	case e.Decision != Allow && e.Decision != Deny:
		return invalid("/decision", "decision is %q: use %q or %q", e.Decision, Allow, Deny)
	case e.Outcome == "":
		return invalid("/outcome", "missing outcome: use \"success\" or the failure's issue code")
	case e.Level != LevelStandard && e.Level != LevelHigh:
		return invalid("/level", "level is %q: use %q or %q", e.Level, LevelStandard, LevelHigh)
	case e.PayloadSHA256 != "" && !sha256Pattern.MatchString(e.PayloadSHA256):
		return invalid("/payload_sha256", "payload_sha256 is not 64 lowercase hex digits: pass HashPayload(payload)")
	case e.SubjectTenant != "" && !tenantPattern.MatchString(e.SubjectTenant):
		return invalid("/subject_tenant", "invalid subject_tenant %q: use 1 to 64 letters, digits, '.', '_' or '-'", e.SubjectTenant)
	case len(e.BreakGlassReason) > maxReasonBytes || !utf8.ValidString(e.BreakGlassReason):
		return invalid("/break_glass_reason", "break_glass_reason must be valid UTF-8 of at most %d bytes", maxReasonBytes)
	}
	for name, value := range e.textFields() {
		if len(value) > maxFieldBytes || !utf8.ValidString(value) {
			return invalid("/"+name, "%s must be valid UTF-8 of at most %d bytes", name, maxFieldBytes)
		}
	}
	return nil
}

// textFields lists the free-text fields with their JSON names.
func (e *Event) textFields() map[string]string {
	fields := map[string]string{
		"request_id": e.RequestID, "subject": e.Subject, "action": e.Action,
		"resource_type": e.ResourceType, "resource_id": e.ResourceID, "patient": e.Patient,
		"purpose_of_use": e.PurposeOfUse, "decision_id": e.DecisionID, "provider": e.Provider,
		"provider_version": e.ProviderVersion, "outcome": e.Outcome, "model_id": e.ModelID,
	}
	for i, r := range e.Reasons {
		fields["reasons/"+itoa(i)] = r
	}
	for i, r := range e.Roles {
		fields["roles/"+itoa(i)] = r
	}
	fields["policy_revision"] = e.PolicyRevision
	for i, o := range e.Obligations {
		fields["obligations/"+itoa(i)+"/rule"] = o.Rule
		for j, f := range o.Fields {
			fields["obligations/"+itoa(i)+"/fields/"+itoa(j)] = f
		}
	}
	return fields
}
