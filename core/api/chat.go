package api

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/schema"
	"github.com/healthhub/healthhub/sdk"
)

// chatRequestBody is the body of POST /v1/chat, as
// schemas/hub/chat-request.schema.json describes it.
type chatRequestBody struct {
	Provider    string            `json:"provider"`
	Model       string            `json:"model"`
	Messages    []sdk.ChatMessage `json:"messages"`
	Patient     string            `json:"patient"`
	Stream      bool              `json:"stream"`
	Temperature *float64          `json:"temperature"`
	MaxTokens   int               `json:"max_tokens"`
}

// chatReply is the response of a chat that is not streamed.
type chatReply struct {
	Message      sdk.ChatMessage `json:"message"`
	Model        string          `json:"model,omitempty"`
	FinishReason string          `json:"finish_reason,omitempty"`
	Usage        sdk.Usage       `json:"usage"`
	// AuditID is the id of the audit event of the provider call.
	AuditID string `json:"audit_id"`
}

// chat serves POST /v1/chat: the conversation, with the patient's
// context when the request names a patient, goes to an LLM provider under
// the policy's egress decision, and the reply comes back whole or as
// server-sent events.
func (o *operationRoutes) chat(w http.ResponseWriter, r *http.Request) error {
	req, err := o.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	var body chatRequestBody
	if err := o.p.decodeRequest(ctx, r, schema.RequestChat, &body); err != nil {
		return err
	}
	provider, err := o.p.pickProvider(sdk.KindLLM, body.Provider, o.p.Operations.Chat, "")
	if err != nil {
		return err
	}
	call, err := o.p.beginCall(ctx, req, "chat", sdk.KindLLM, provider, policy.Resource{Type: "Communication", Patient: body.Patient})
	if err != nil {
		return err
	}

	chatReq, err := o.p.chatRequest(ctx, call, body)
	if err != nil {
		_, auditErr := call.finish(ctx, body.Model, "", err)
		return auditErr
	}
	payload, err := json.Marshal(chatReq)
	if err != nil {
		return err
	}
	if body.Stream {
		return o.streamChat(w, r, call, chatReq, jsonDigest(payload))
	}

	resp, callErr := provider.ChatModel.Chat(ctx, chatReq)
	model := chatReq.Model
	var reply chatReply
	if callErr == nil {
		model = cmp.Or(resp.Model, model)
		reply = chatReply{Message: resp.Message, Model: resp.Model, FinishReason: resp.FinishReason, Usage: resp.Usage}
		reply.Message.Content = call.restoreReply(reply.Message.Content)
	}
	reply.AuditID, err = call.finish(ctx, model, jsonDigest(payload), callErr)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, reply)
}

// chatRequest builds what the provider receives: the patient's context as
// a system message and the conversation, each cleaned under the decision.
func (p *Pipeline) chatRequest(ctx context.Context, call *providerCall, body chatRequestBody) (sdk.ChatRequest, error) {
	out := sdk.ChatRequest{Model: body.Model, Temperature: body.Temperature, MaxTokens: body.MaxTokens}
	if body.Patient != "" {
		bundle, err := p.patientContext(ctx, call.req, body.Patient)
		if err != nil {
			return out, err
		}
		cleaned, err := call.applyJSON("/context", bundle)
		if err != nil {
			return out, err
		}
		out.Messages = append(out.Messages, sdk.ChatMessage{Role: sdk.RoleSystem, Content: chatContextPreamble + string(cleaned)})
	}
	for i, message := range body.Messages {
		text := call.applyText("/messages/"+strconv.Itoa(i)+"/content", message.Content)
		out.Messages = append(out.Messages, sdk.ChatMessage{Role: message.Role, Content: text})
	}
	return out, nil
}

// chatContextPreamble introduces the patient's context to the model.
const chatContextPreamble = "Context: the patient's record as a FHIR R4 collection Bundle. Identifiers and names may be replaced by pseudonym tokens; use the tokens as they are.\n"

// patientContext returns a collection Bundle of the patient and their
// recent resources of the configured types that the subject may read. A
// subject who may not read the Patient gets a 403, because the chat is
// about them. The read is audited as one event.
func (p *Pipeline) patientContext(ctx context.Context, req *request, patient string) ([]byte, error) {
	id := patient[len("Patient/"):]
	res, err := p.Store.Read(ctx, req.tenant, "Patient", id)
	if err != nil {
		return nil, err
	}
	decision := p.decide(ctx, req, "read", policy.Resource{Type: "Patient", ID: id, Patient: patient, SecurityLabels: factsOf(res.Body).labels}, nil)
	event := auditEvent(req, "read", "Bundle", "", patient, decision)
	event.Reasons = append(event.Reasons, "chat.context")
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return nil, joinAudit(p.record(ctx, event), forbidden(decision))
	}

	limit := orInt(p.Operations.ChatContextResources, DefaultChatContextResources)
	maxBytes := p.Operations.ChatContextBytes.Or(DefaultChatContextBytes)
	entries := [][]byte{res.Body}
	size := int64(len(res.Body))
	for _, resourceType := range p.Operations.chatContextTypes() {
		params := url.Values{"patient": {patient}, "_count": {strconv.Itoa(limit)}, "_sort": {"-_lastUpdated"}}
		page, err := p.Store.Search(ctx, req.tenant, resourceType, params)
		if err != nil {
			event.Outcome = outcomeCode(err)
			return nil, joinAudit(p.record(ctx, event), err)
		}
		for _, found := range page.Resources {
			facts := factsOf(found.Body)
			target := policy.Resource{Type: resourceType, ID: found.ID, Patient: facts.patient, SecurityLabels: facts.labels}
			if !p.decide(ctx, req, "read", target, nil).Allow || size+int64(len(found.Body)) > maxBytes {
				continue
			}
			entries = append(entries, found.Body)
			size += int64(len(found.Body))
		}
	}
	if err := p.record(ctx, event); err != nil {
		return nil, err
	}
	return collectionBundle(entries), nil
}

// collectionBundle wraps resources in a Bundle of type collection.
func collectionBundle(resources [][]byte) []byte {
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"collection","entry":[`)
	for i, resource := range resources {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"resource":`)
		b.Write(resource)
		b.WriteByte('}')
	}
	b.WriteString("]}")
	return b.Bytes()
}

// restoreReply maps the pseudonym tokens of a reply back to the real
// values when the decision allows it.
func (c *providerCall) restoreReply(text string) string {
	if !c.decision.Obligations.Reidentify {
		return text
	}
	out, report, err := c.req.obligations.Restore(c.decision.Obligations, text)
	if err != nil {
		return text
	}
	c.note("/reply", report)
	return out
}
