package auth

import (
	"fmt"
	"strings"
)

// mapClaims reads the subject's attributes from the decoded claims of a
// verified token.
func mapClaims(raw map[string]any, names ClaimNames) (*Principal, error) {
	subject, err := stringClaim(raw, names.Subject)
	if err != nil {
		return nil, err
	}
	tenant, err := stringClaim(raw, names.Tenant)
	if err != nil {
		return nil, err
	}
	patient, err := stringClaim(raw, names.Patient)
	if err != nil {
		return nil, err
	}
	roles, err := wordsClaim(raw, names.Roles)
	if err != nil {
		return nil, err
	}
	scopes, err := wordsClaim(raw, names.Scope)
	if err != nil {
		return nil, err
	}
	return &Principal{
		ID:      subject,
		Tenant:  tenant,
		Patient: strings.TrimPrefix(patient, "Patient/"),
		Roles:   roles,
		Scopes:  scopes,
	}, nil
}

func stringClaim(raw map[string]any, name string) (string, error) {
	value := lookupClaim(raw, name)
	if value == nil {
		return "", nil
	}
	text, ok := value.(string)
	if !ok {
		return "", loginError("token claim %q must be a string, got %T", name, value)
	}
	return text, nil
}

// wordsClaim reads a claim that is either an array of strings or one
// space-separated string, the two forms issuers use for roles and scopes.
func wordsClaim(raw map[string]any, name string) ([]string, error) {
	switch value := lookupClaim(raw, name).(type) {
	case nil:
		return nil, nil
	case string:
		return strings.Fields(value), nil
	case []any:
		words := make([]string, 0, len(value))
		for i, item := range value {
			word, ok := item.(string)
			if !ok || word == "" {
				return nil, loginError("token claim %q item %d must be a non-empty string", name, i)
			}
			words = append(words, word)
		}
		return words, nil
	default:
		return nil, loginError("token claim %q must be a string or an array of strings, got %s", name, fmt.Sprintf("%T", value))
	}
}

// lookupClaim returns the claim called name. A name with dots that is not a
// claim itself is followed as a path into nested objects, so that
// "realm_access.roles" reads {"realm_access": {"roles": [...]}}.
func lookupClaim(raw map[string]any, name string) any {
	if value, ok := raw[name]; ok {
		return value
	}
	var current any = raw
	for part := range strings.SplitSeq(name, ".") {
		object, ok := current.(map[string]any)
		if !ok {
			return nil
		}
		current = object[part]
	}
	return current
}
