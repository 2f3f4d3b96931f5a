package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"strings"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// pickProvider returns the provider of kind named by the request, else the
// configured default, else the first loaded provider of the kind that
// declares capability (any, when capability is empty).
func (p *Pipeline) pickProvider(kind sdk.Kind, requested, configured, capability string) (sdk.Provider, error) {
	name := requested
	if name == "" {
		name = configured
	}
	if name != "" {
		provider, err := p.Plugins.Provider(name)
		if err != nil || !provider.Info.HasKind(kind) {
			return sdk.Provider{}, issueAt(sdk.CodeNotFound, "/provider", "provider", "no %s provider named %q is loaded: see /v1/plugins for the loaded providers", kind, truncate(name, 64))
		}
		if capability != "" && !provider.Info.HasCapability(capability) {
			return sdk.Provider{}, issueAt(sdk.CodeNotSupported, "/provider", "provider", "provider %q lacks the %s capability this operation needs", name, capability)
		}
		return provider, nil
	}
	for _, provider := range p.Plugins.Providers(kind) {
		if capability == "" || provider.Info.HasCapability(capability) {
			return provider, nil
		}
	}
	if capability != "" {
		return sdk.Provider{}, hubError(sdk.CodeNotSupported, "no %s provider with the %s capability is loaded: install one, such as imaging-dicom", kind, capability)
	}
	return sdk.Provider{}, hubError(sdk.CodeNotSupported, "no %s provider is loaded: install one in the plugin directory", kind)
}

// providerCall is one call to a provider under a policy decision: the
// egress decision made from the provider's data-use declaration, the
// session that applies its obligations, and the audit event of the call.
type providerCall struct {
	p        *Pipeline
	req      *request
	provider sdk.Provider
	decision policy.Decision
	event    audit.Event
	report   obligation.Report
}

// beginCall gets the policy decision on whether action on res may go to
// provider. A deny is audited and returned as a 403 outcome.
func (p *Pipeline) beginCall(ctx context.Context, req *request, action string, kind sdk.Kind, provider sdk.Provider, res policy.Resource) (*providerCall, error) {
	input := &policy.Provider{Kind: kind, Name: provider.Info.Name, Version: provider.Info.Version, DataUse: provider.DataUse()}
	decision := p.decideFor(ctx, req, action, res, nil, input)
	event := auditEvent(req, "provider."+action, res.Type, res.ID, res.Patient, decision)
	event.Provider, event.ProviderVersion = provider.Info.Name, provider.Info.Version
	call := &providerCall{p: p, req: req, provider: provider, decision: decision, event: event}
	if !decision.Allow {
		call.event.Outcome = string(sdk.CodeForbidden)
		return nil, joinAudit(p.record(ctx, call.event), forbidden(decision))
	}
	return call, nil
}

// obligations returns the decision's obligations.
func (c *providerCall) obligations() policy.Obligations { return c.decision.Obligations }

// deidentifies reports whether the decision changes what the provider
// receives.
func (c *providerCall) deidentifies() bool { return !c.decision.Obligations.Empty() }

// applyJSON applies the obligations to a FHIR payload and notes the
// changes under prefix, a JSON Pointer into the request.
func (c *providerCall) applyJSON(prefix string, payload []byte) ([]byte, error) {
	out, report, err := c.req.obligations.ApplyJSON(c.decision.Obligations, payload)
	if err != nil {
		return nil, fmt.Errorf("apply obligations: %w", err)
	}
	c.note(prefix, report)
	return out, nil
}

// applyText scrubs free text and notes the change under prefix.
func (c *providerCall) applyText(prefix, text string) string {
	out, report := c.req.obligations.ApplyText(c.decision.Obligations, text)
	c.note(prefix, report)
	return out
}

func (c *providerCall) note(prefix string, report *obligation.Report) {
	if report == nil {
		return
	}
	for _, change := range report.Changes {
		change.Path = prefix + change.Path
		c.report.Changes = append(c.report.Changes, change)
	}
}

// finish records the audit event of the call: the model, the obligations
// applied and the hash of what the provider received. It returns the
// event's id, or the error that fails the request when the event cannot
// be written.
func (c *providerCall) finish(ctx context.Context, model, payloadHash string, callErr error) (string, error) {
	c.event.ModelID = truncate(model, 200)
	c.event.PayloadSHA256 = payloadHash
	c.event.Obligations = auditObligations(&c.report)
	c.event.Outcome = outcomeCode(callErr)
	receipt, err := c.p.Audit.Append(context.WithoutCancel(ctx), c.event)
	c.p.Metrics.AuditAppended(err)
	if err != nil {
		c.p.Logger.ErrorContext(ctx, "audit append failed; refusing the response", "request_id", c.event.RequestID, "error", err)
		o := sdk.Errorf(sdk.CodeTransient, "audit trail unavailable: the hub returns no response without its audit record; retry later")
		return "", joinAudit(o.WithSource(sdk.SourceHub), callErr)
	}
	if callErr != nil {
		c.p.Logger.WarnContext(ctx, "provider call failed", "request_id", c.event.RequestID, "provider", c.event.Provider,
			"action", c.event.Action, "code", c.event.Outcome, "audit_id", receipt.EventID)
	}
	return receipt.EventID, callErr
}

// payloadDigest hashes what a provider receives: the JSON of the request's
// metadata, a newline, then the streamed object bytes (audio or image), as
// the plugin reads them. Its hex sum is the audit event's payload_sha256.
type payloadDigest struct{ h hash.Hash }

func newPayloadDigest(metadata any) (*payloadDigest, error) {
	encoded, err := json.Marshal(metadata)
	if err != nil {
		return nil, err
	}
	d := &payloadDigest{h: sha256.New()}
	d.h.Write(encoded)
	d.h.Write([]byte{'\n'})
	return d, nil
}

// reader returns r with every byte read from it added to the digest.
func (d *payloadDigest) reader(r io.Reader) io.Reader { return io.TeeReader(r, d.h) }

func (d *payloadDigest) sum() string { return hex.EncodeToString(d.h.Sum(nil)) }

// jsonDigest hashes a JSON payload sent whole, such as a chat request.
func jsonDigest(payload []byte) string { return audit.HashPayload(payload) }

// pseudonymSubject returns the patient reference the provider may see:
// the reference itself, or a pseudonym token of its id when the decision
// de-identifies.
func (c *providerCall) pseudonymSubject(patient string) (string, error) {
	if patient == "" || !c.deidentifies() {
		return patient, nil
	}
	doc := fmt.Sprintf(`{"resourceType":"Basic","subject":{"reference":%q}}`, patient)
	rules := policy.Obligations{Pseudonymize: []policy.ElementRule{{Path: "Basic.subject", Rule: firstRule(c.decision.Obligations)}}}
	out, report, err := c.req.obligations.ApplyJSON(rules, []byte(doc))
	if err != nil {
		return "", fmt.Errorf("pseudonymize the subject: %w", err)
	}
	c.note("/subject", &obligation.Report{Changes: stripPaths(report.Changes, "/subject")})
	var parsed struct {
		Subject struct {
			Reference string `json:"reference"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		return "", err
	}
	return parsed.Subject.Reference, nil
}

// restoreReferences maps the session's pseudonym tokens in a provider's
// JSON result back to the real ids, so that what the hub stores refers to
// the real patient. It does not depend on Reidentify, because the tokens
// never leave the hub in this direction.
func (c *providerCall) restoreReferences(body []byte) []byte {
	if !c.deidentifies() {
		return body
	}
	allowed := policy.Obligations{Reidentify: true}
	out, _, err := c.req.obligations.Restore(allowed, string(body))
	if err != nil {
		return body
	}
	return []byte(out)
}

func firstRule(ob policy.Obligations) string {
	for _, rule := range ob.Pseudonymize {
		return rule.Rule
	}
	for _, rule := range ob.ScrubText {
		return rule.Rule
	}
	return "egress.deidentify"
}

// stripPaths drops the path prefix of a throwaway wrapper document.
func stripPaths(changes []obligation.Change, prefix string) []obligation.Change {
	out := make([]obligation.Change, len(changes))
	for i, change := range changes {
		change.Path = strings.TrimPrefix(change.Path, prefix)
		out[i] = change
	}
	return out
}
