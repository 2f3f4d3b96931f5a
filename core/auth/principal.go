package auth

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/healthhub/healthhub/sdk"
)

// Request headers that complete the subject of a request.
const (
	// HeaderPurposeOfUse carries the purpose of use of the request as an
	// HL7 v3 PurposeOfUse code, such as "TREAT" (treatment), "ETREAT"
	// (emergency treatment), "HPAYMT" (payment) or "HRESCH" (research).
	HeaderPurposeOfUse = "X-Purpose-Of-Use"
	// HeaderBreakGlassReason carries the reason a user gives for an
	// emergency access that policies would otherwise deny. Its presence
	// requests break-glass; the policy decides whether the reason suffices.
	HeaderBreakGlassReason = "X-Break-Glass-Reason"
)

// Limits on the request headers.
const (
	maxPurposeLength = 64
	// MaxBreakGlassReasonLength is the longest break-glass reason accepted,
	// in characters.
	MaxBreakGlassReasonLength = 500
)

// Authentication methods recorded in Principal.Method.
const (
	MethodHubToken  = "hub-token"
	MethodOIDCToken = "oidc-token"
	MethodAPIKey    = "api-key"
)

// RolePatient is the role of a patient acting for themselves. A token with
// this role must name the patient it is bound to.
const RolePatient = "patient"

// Principal is an authenticated subject: who makes the request, for which
// tenant, with which roles and scopes, and why.
type Principal struct {
	// ID is the subject id, the "sub" claim or the service account name.
	ID string `json:"id"`
	// Roles are the subject's roles, such as "clinician" or "billing".
	Roles []string `json:"roles"`
	// Tenant is the organisation the subject acts for. Every request is
	// confined to it unless a policy allows break-glass.
	Tenant string `json:"tenant"`
	// Scopes are SMART v2 scopes, such as "patient/Observation.rs".
	Scopes []string `json:"scopes,omitempty"`
	// Patient is the patient id a patient-role subject is bound to.
	Patient string `json:"patient,omitempty"`
	// PurposeOfUse comes from the X-Purpose-Of-Use header; empty when the
	// request gives none.
	PurposeOfUse string `json:"purpose_of_use,omitempty"`
	// BreakGlassReason comes from the X-Break-Glass-Reason header; empty
	// when the request does not ask for break-glass.
	BreakGlassReason string `json:"break_glass_reason,omitempty"`
	// Method is the authentication method: MethodHubToken,
	// MethodOIDCToken or MethodAPIKey.
	Method string `json:"method"`
	// Issuer is the token issuer, or empty for API keys.
	Issuer string `json:"issuer,omitempty"`
	// CredentialID identifies the credential: the token's "jti" or the API
	// key id. Audit records carry it; it is not secret.
	CredentialID string `json:"credential_id,omitempty"`
	// ExpiresAt is when the credential expires; zero when it does not.
	ExpiresAt time.Time `json:"expires_at,omitzero"`
}

// HasRole reports whether the principal has role r.
func (p *Principal) HasRole(r string) bool { return slices.Contains(p.Roles, r) }

// RateKey is the key under which rate limits count the principal's
// requests: tenant and subject id.
func (p *Principal) RateKey() string { return p.Tenant + "\x00" + p.ID }

// check verifies the attributes every principal needs, whatever its
// credential.
func (p *Principal) check() error {
	switch {
	case p.ID == "":
		return loginError("credential has no subject id")
	case p.Tenant == "":
		return loginError("credential of %q has no tenant", p.ID)
	case len(p.Roles) == 0:
		return loginError("credential of %q has no role", p.ID)
	case p.HasRole(RolePatient) && p.Patient == "":
		return loginError("credential of %q has role %q but names no patient", p.ID, RolePatient)
	}
	return nil
}

// readRequestHeaders copies the purpose of use and break-glass reason from
// the request into p, rejecting values that cannot be genuine.
func (p *Principal) readRequestHeaders(r *http.Request) error {
	purpose := strings.TrimSpace(r.Header.Get(HeaderPurposeOfUse))
	if purpose != "" && !isCode(purpose) {
		return invalidHeader(HeaderPurposeOfUse, "must be a PurposeOfUse code of letters, digits, '.', '-' or '_', at most %d characters, such as TREAT", maxPurposeLength)
	}
	p.PurposeOfUse = purpose

	reason := strings.TrimSpace(r.Header.Get(HeaderBreakGlassReason))
	if utf8.RuneCountInString(reason) > MaxBreakGlassReasonLength {
		return invalidHeader(HeaderBreakGlassReason, "is longer than %d characters", MaxBreakGlassReasonLength)
	}
	if !utf8.ValidString(reason) || strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return invalidHeader(HeaderBreakGlassReason, "must be printable UTF-8 text")
	}
	p.BreakGlassReason = reason
	return nil
}

func isCode(s string) bool {
	if len(s) > maxPurposeLength {
		return false
	}
	for _, c := range s {
		ok := c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}

func invalidHeader(name, format string, args ...any) error {
	o := sdk.Errorf(sdk.CodeInvalid, "authenticate: header %s %s", name, fmt.Sprintf(format, args...))
	o.Issues[0].Source = sdk.SourceHub
	return o
}

// loginError returns an outcome with code login, which the HTTP edge maps
// to 401.
func loginError(format string, args ...any) error {
	o := sdk.Errorf(sdk.CodeLogin, "authenticate: "+format, args...)
	o.Issues[0].Source = sdk.SourceHub
	return o
}
