package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// maxFormField bounds a text field of a multipart upload.
const maxFormField = 64 << 10

// maxFormFields bounds the number of text fields of a multipart upload.
const maxFormFields = 100

// storage returns the first storage provider.
func (p *Pipeline) storage() (sdk.Storage, sdk.Info, error) {
	providers := p.Plugins.Providers(sdk.KindStorage)
	if len(providers) == 0 {
		return nil, sdk.Info{}, hubError(sdk.CodeNotSupported, "no storage provider is loaded: install the storage-fs plugin")
	}
	return providers[0].Storage, providers[0].Info, nil
}

// blobError turns a storage error about a named blob into the client's
// error: a missing blob is a 404 that names it.
func blobError(err error, id string) error {
	if errors.Is(err, sdk.ErrNotFound) {
		return issueAt(sdk.CodeNotFound, "/blob", "blob", "no blob %q in this tenant: upload it with POST /v1/blobs", truncate(id, 64))
	}
	return err
}

// storeBlob stores body as a new blob of the tenant, as POST /v1/blobs
// does, and returns its id.
func (p *Pipeline) storeBlob(ctx context.Context, req *request, body io.Reader, contentType string, size int64) (string, sdk.ObjectInfo, error) {
	storage, info, err := p.storage()
	if err != nil {
		return "", sdk.ObjectInfo{}, err
	}
	decision := p.decide(ctx, req, "create", policy.Resource{Type: "Binary"}, nil)
	event := auditEvent(req, "create", "Binary", "", "", decision)
	event.Provider, event.ProviderVersion = info.Name, info.Version
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return "", sdk.ObjectInfo{}, joinAudit(p.record(ctx, event), forbidden(decision))
	}
	id, err := newBlobID()
	if err != nil {
		return "", sdk.ObjectInfo{}, err
	}
	object, err := storage.Put(ctx, blobKey(req.tenant, id), body, sdk.PutOptions{ContentType: contentType, Size: size})
	event.ResourceID = id
	event.Outcome = outcomeCode(err)
	if auditErr := p.record(ctx, event); auditErr != nil || err != nil {
		return "", sdk.ObjectInfo{}, joinAudit(auditErr, err)
	}
	return id, object, nil
}

// readBlobText reads a small text blob, such as a queued job's prompt.
func (p *Pipeline) readBlobText(ctx context.Context, tenant, id string) (string, error) {
	storage, _, err := p.storage()
	if err != nil {
		return "", err
	}
	body, _, err := storage.Get(ctx, blobKey(tenant, id))
	if err != nil {
		return "", blobError(err, id)
	}
	defer body.Close()
	text, err := io.ReadAll(io.LimitReader(body, maxFormField))
	return string(text), err
}

// readUpload reads a multipart upload: its text fields, and its part
// "file", which is streamed to storage as a new blob. It returns the
// fields and the blob's id ("" without a file part). A file part without a
// content type gets fallbackType.
func (p *Pipeline) readUpload(ctx context.Context, r *http.Request, req *request, fallbackType string) (map[string]any, string, error) {
	reader, err := r.MultipartReader()
	if err != nil {
		return nil, "", issueAt(sdk.CodeInvalid, "", "", "read upload: %v: send multipart/form-data with a boundary", err)
	}
	fields := map[string]any{}
	blob := ""
	for count := 0; ; count++ {
		part, err := reader.NextPart()
		if errors.Is(err, io.EOF) {
			return fields, blob, nil
		}
		if err != nil {
			return nil, "", issueAt(sdk.CodeInvalid, "", "", "read upload: %v", err)
		}
		name := part.FormName()
		if name == "file" {
			if blob != "" {
				return nil, "", issueAt(sdk.CodeInvalid, "/file", "file", "read upload: more than one part named \"file\": send one")
			}
			contentType := part.Header.Get("Content-Type")
			if contentType == "" || contentType == "application/octet-stream" {
				contentType = fallbackType
			}
			if blob, _, err = p.storeBlob(ctx, req, part, contentType, -1); err != nil {
				return nil, "", err
			}
			continue
		}
		if count >= maxFormFields {
			return nil, "", issueAt(sdk.CodeTooLong, "", "", "read upload: more than %d form fields: send the fields of the request schema only", maxFormFields)
		}
		if err := readField(part, name, fields); err != nil {
			return nil, "", err
		}
	}
}

// readField adds one text field to fields. "true" and "false" become
// booleans and "parameters.NAME" fields go into the parameters object, so
// that the fields validate against the JSON request schema.
func readField(part *multipart.Part, name string, fields map[string]any) error {
	value, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
	if err != nil {
		return issueAt(sdk.CodeInvalid, "", "", "read upload field %q: %v", truncate(name, 40), err)
	}
	if len(value) > maxFormField {
		return issueAt(sdk.CodeTooLong, "/"+name, name, "read upload: field %q is longer than %d bytes", truncate(name, 40), maxFormField)
	}
	text := string(value)
	switch {
	case name == "async":
		fields[name] = text == "true"
		if text != "true" && text != "false" {
			fields[name] = text
		}
	case strings.HasPrefix(name, "parameters."):
		params, _ := fields["parameters"].(map[string]any)
		if params == nil {
			params = map[string]any{}
			fields["parameters"] = params
		}
		params[strings.TrimPrefix(name, "parameters.")] = text
	default:
		fields[name] = text
	}
	return nil
}

// storeResource validates a resource the hub made from a provider's
// result, decides its creation for the request's subject, stores it and
// audits it. It returns the stored JSON.
func (p *Pipeline) storeResource(ctx context.Context, req *request, body []byte) ([]byte, error) {
	facts := factsOf(body)
	var doc struct {
		ResourceType string `json:"resourceType"`
	}
	_ = json.Unmarshal(body, &doc)
	if err := p.Validator.Validate(ctx, doc.ResourceType, body); err != nil {
		return nil, fmt.Errorf("store the %s made from the provider's result: %w", doc.ResourceType, asPluginFault(err))
	}
	decision := p.decide(ctx, req, "create", policy.Resource{Type: doc.ResourceType, Patient: facts.patient, SecurityLabels: facts.labels}, nil)
	event := auditEvent(req, "create", doc.ResourceType, "", facts.patient, decision)
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return nil, joinAudit(p.record(ctx, event), forbidden(decision))
	}
	res, err := p.Store.Create(ctx, req.tenant, body)
	event.Outcome = outcomeCode(err)
	if res != nil {
		event.ResourceID = res.ID
	}
	if auditErr := p.record(ctx, event); auditErr != nil || err != nil {
		return nil, joinAudit(auditErr, err)
	}
	return res.Body, nil
}

// asPluginFault marks validation issues of a provider's result as the
// plugin's, so that the client gets a 502 instead of a 400 for input it
// did not send.
func asPluginFault(err error) error {
	var outcome *sdk.Outcome
	if !errors.As(err, &outcome) {
		return err
	}
	marked := *outcome
	marked.Issues = make([]sdk.Issue, len(outcome.Issues))
	for i, issue := range outcome.Issues {
		issue.Source = sdk.SourcePlugin
		marked.Issues[i] = issue
	}
	return &marked
}
