package api

import (
	"net/http"
	"time"

	"github.com/healthhub/healthhub/core/store"
)

type capabilityResource struct {
	Type         string              `json:"type"`
	Interaction  []map[string]string `json:"interaction"`
	Versioning   string              `json:"versioning"`
	ReadHistory  bool                `json:"readHistory"`
	UpdateCreate bool                `json:"updateCreate"`
	SearchParam  []map[string]string `json:"searchParam,omitempty"`
}

// metadata returns the CapabilityStatement: the resource types the hub
// validates, the interactions and search parameters it serves, and how it
// authenticates. It needs no credential, as FHIR clients read it first.
func (f *fhirRoutes) metadata(w http.ResponseWriter, r *http.Request) error {
	interactions := []map[string]string{}
	for _, code := range []string{"read", "vread", "update", "delete", "history-instance", "create", "search-type"} {
		interactions = append(interactions, map[string]string{"code": code})
	}
	var resources []capabilityResource
	for _, resourceType := range f.p.Validator.ResourceTypes() {
		resources = append(resources, capabilityResource{
			Type: resourceType, Interaction: interactions, Versioning: "versioned",
			ReadHistory: true, UpdateCreate: true, SearchParam: paramsFor(resourceType),
		})
	}
	statement := map[string]any{
		"resourceType": "CapabilityStatement",
		"status":       "active",
		"date":         time.Now().UTC().Format("2006-01-02"),
		"kind":         "instance",
		"software":     map[string]string{"name": "HealthHub"},
		"implementation": map[string]string{
			"description": "HealthHub FHIR-style API",
			"url":         f.server.baseURL(r) + "/fhir",
		},
		"fhirVersion": "4.0.1",
		"format":      []string{"application/fhir+json", "json"},
		"rest": []any{map[string]any{
			"mode": "server",
			"security": map[string]any{
				"description": "Bearer tokens: JWTs the hub issues (EdDSA) or an OpenID Connect issuer signs (RS256, ES256), and service account API keys. X-Purpose-Of-Use and X-Break-Glass-Reason complete the subject.",
			},
			"resource":    resources,
			"interaction": []map[string]string{{"code": "transaction"}, {"code": "batch"}},
		}},
	}
	body, err := marshalJSON(statement)
	if err != nil {
		return err
	}
	return writeFHIR(w, http.StatusOK, body)
}

func paramsFor(resourceType string) []map[string]string {
	var params []map[string]string
	for _, p := range store.SearchParams(resourceType) {
		params = append(params, map[string]string{"name": p.Name, "type": p.Type})
	}
	return params
}
