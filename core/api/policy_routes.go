package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// RoleAdmin is the role that may use the hub's operator routes: policy
// decide and reload, and audit queries.
const RoleAdmin = "admin"

// PolicyEngine is the part of the policy engine the /v1/policy routes use;
// *policy.Engine implements it.
type PolicyEngine interface {
	DecideJSON(ctx context.Context, input []byte) (policy.Decision, error)
	Explain(ctx context.Context, input []byte) (policy.Explanation, error)
	Reload(ctx context.Context) error
	Revision() string
}

// RegisterPolicy adds POST /v1/policy/decide, a dry-run decision for
// policy authors, and POST /v1/policy/reload. Both need role admin.
func (s *Server) RegisterPolicy(engine PolicyEngine) {
	routes := &policyRoutes{engine: engine, server: s}
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/policy/decide", Consumes: []string{ContentTypeJSON}, Handler: routes.decide})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/policy/reload", Handler: routes.reload})
}

type policyRoutes struct {
	engine PolicyEngine
	server *Server
}

func requireRole(r *http.Request, role string) error {
	principal := PrincipalFrom(r.Context())
	if principal == nil || !principal.HasRole(role) {
		return hubError(sdk.CodeForbidden, "this route needs role %q", role)
	}
	return nil
}

// decide evaluates a policy input document without acting on it:
// ?explain=true returns the rules that produced the decision instead.
func (p *policyRoutes) decide(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(r, RoleAdmin); err != nil {
		return err
	}
	input, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(input, &doc); err != nil {
		return syntaxOutcome(input, err)
	}
	if r.URL.Query().Get("explain") == "true" {
		explanation, err := p.engine.Explain(r.Context(), input)
		if err != nil {
			return hubError(sdk.CodeInvalid, "explain decision: %v", err)
		}
		return writeJSON(w, http.StatusOK, explanation)
	}
	decision, err := p.engine.DecideJSON(r.Context(), input)
	if errors.Is(err, policy.ErrInvalidInput) {
		return hubError(sdk.CodeInvalid, "decide: %v", err)
	}
	response := map[string]any{"decision": decision}
	if err != nil {
		response["error"] = err.Error()
	}
	return writeJSON(w, http.StatusOK, response)
}

// reload reads the policy directory again. A set that fails to compile or
// whose Rego tests fail is rejected (422) and the old one stays in force.
func (p *policyRoutes) reload(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(r, RoleAdmin); err != nil {
		return err
	}
	if err := p.engine.Reload(r.Context()); err != nil {
		return hubError(sdk.CodeBusinessRule, "reload policies: %v", err)
	}
	p.server.logger.InfoContext(r.Context(), "policies reloaded", "request_id", RequestID(r.Context()), "revision", p.engine.Revision())
	return writeJSON(w, http.StatusOK, map[string]string{"revision": p.engine.Revision()})
}
