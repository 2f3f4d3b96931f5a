package api

import (
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// blobTimeout bounds a blob upload or download, which may carry up to
// limits.max_blob_size.
const blobTimeout = 30 * time.Minute

func (s *Server) registerV1(p *Pipeline) {
	v := &v1Routes{server: s, p: p}
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/audit", Handler: v.auditQuery})
	blobLimit := s.cfg.Limits.MaxBlobSize.Or(DefaultMaxBlobSize)
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/blobs", Consumes: []string{"*/*"}, MaxBody: blobLimit, Timeout: blobTimeout, Handler: v.putBlob})
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/blobs/{id}", Timeout: blobTimeout, Handler: v.getBlob})
}

type v1Routes struct {
	server *Server
	p      *Pipeline
}

// auditQuery returns the subject's tenant's audit events as a Bundle of
// FHIR AuditEvent resources, filtered by patient, subject, time, the
// review flag and the audit level. The query is itself audited.
func (v *v1Routes) auditQuery(w http.ResponseWriter, r *http.Request) error {
	if err := requireRole(r, RoleAdmin); err != nil {
		return err
	}
	principal := PrincipalFrom(r.Context())
	query := r.URL.Query()
	filter := audit.Filter{Tenant: principal.Tenant, Patient: query.Get("patient"), Subject: query.Get("subject"), Cursor: query.Get("_cursor")}
	for name, target := range map[string]*time.Time{"since": &filter.Since, "until": &filter.Until} {
		if value := query.Get(name); value != "" {
			t, err := time.Parse(time.RFC3339, value)
			if err != nil {
				return issueAt(sdk.CodeInvalid, "", name, "%s %q must be an instant such as 2026-01-31T12:00:00Z", name, truncate(value, 40))
			}
			*target = t
		}
	}
	switch review := query.Get("review"); review {
	case "", "false":
	case "true":
		filter.Review = true
	default:
		return issueAt(sdk.CodeInvalid, "", "review", "review %q must be true or false", truncate(review, 20))
	}
	switch level := query.Get("level"); level {
	case "":
	case audit.LevelStandard, audit.LevelHigh:
		filter.Level = level
	default:
		return issueAt(sdk.CodeInvalid, "", "level", "level %q must be %s or %s", truncate(level, 20), audit.LevelStandard, audit.LevelHigh)
	}
	if count := query.Get("_count"); count != "" {
		n, err := strconv.Atoi(count)
		if err != nil || n < 1 {
			return issueAt(sdk.CodeInvalid, "", "_count", "_count %q must be a positive whole number", truncate(count, 20))
		}
		filter.Limit = n
	}

	page, err := v.p.Audit.Query(r.Context(), filter)
	if err != nil {
		return err
	}
	event := audit.Event{
		RequestID: RequestID(r.Context()), Subject: principal.ID, Tenant: principal.Tenant, Action: "audit.query",
		ResourceType: "AuditEvent", Patient: filter.Patient, Decision: audit.Allow, Outcome: "success",
		Reasons: []string{"hub.role_admin"},
	}
	if err := v.p.record(r.Context(), event); err != nil {
		return err
	}
	base := v.server.baseURL(r)
	entries := make([]bundleEntry, 0, len(page.Records))
	for i := range page.Records {
		body, err := marshalJSON(audit.AuditEvent(&page.Records[i]))
		if err != nil {
			return err
		}
		entries = append(entries, bundleEntry{FullURL: "urn:uuid:" + page.Records[i].ID, Resource: body, SearchMode: "match"})
	}
	return writeFHIR(w, http.StatusOK, marshalBundle("searchset", -1, pageLinks(base, r, page.Next), entries))
}

// storage returns the first storage provider.
func (v *v1Routes) storage() (sdk.Storage, sdk.Info, error) {
	providers := v.p.Plugins.Providers(sdk.KindStorage)
	if len(providers) == 0 {
		return nil, sdk.Info{}, hubError(sdk.CodeNotSupported, "no storage provider is loaded: install the storage-fs plugin")
	}
	return providers[0].Storage, providers[0].Info, nil
}

type blobInfo struct {
	ID          string `json:"id"`
	Size        int64  `json:"size"`
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"`
}

// putBlob streams the request body to the storage provider under the
// tenant's blob prefix.
func (v *v1Routes) putBlob(w http.ResponseWriter, r *http.Request) error {
	req, err := v.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	storage, info, err := v.storage()
	if err != nil {
		return err
	}
	decision := v.p.decide(ctx, req, "create", policy.Resource{Type: "Binary"}, nil)
	event := auditEvent(req, "create", "Binary", "", "", decision)
	event.Provider, event.ProviderVersion = info.Name, info.Version
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(v.p.record(ctx, event), forbidden(decision))
	}

	id, err := newBlobID()
	if err != nil {
		return err
	}
	contentType := r.Header.Get("Content-Type")
	object, err := storage.Put(ctx, blobKey(req.tenant, id), r.Body, sdk.PutOptions{ContentType: contentType, Size: r.ContentLength})
	event.ResourceID = id
	if err != nil {
		event.Outcome = outcomeCode(err)
		return joinAudit(v.p.record(ctx, event), err)
	}
	if err := v.p.record(ctx, event); err != nil {
		return err
	}
	w.Header().Set("Location", v.server.baseURL(r)+"/v1/blobs/"+id)
	return writeJSON(w, http.StatusCreated, blobInfo{ID: id, Size: object.Size, ContentType: object.ContentType, SHA256: object.SHA256})
}

// getBlob streams a stored blob back.
func (v *v1Routes) getBlob(w http.ResponseWriter, r *http.Request) error {
	req, err := v.p.newRequest(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	id := r.PathValue("id")
	if !isBlobID(id) {
		return hubError(sdk.CodeNotFound, "no blob with id %q", truncate(id, 80))
	}
	storage, info, err := v.storage()
	if err != nil {
		return err
	}
	decision := v.p.decide(ctx, req, "read", policy.Resource{Type: "Binary", ID: id}, nil)
	event := auditEvent(req, "read", "Binary", id, "", decision)
	event.Provider, event.ProviderVersion = info.Name, info.Version
	if !decision.Allow {
		event.Outcome = string(sdk.CodeForbidden)
		return joinAudit(v.p.record(ctx, event), forbidden(decision))
	}
	body, object, err := storage.Get(ctx, blobKey(req.tenant, id))
	event.Outcome = outcomeCode(err)
	if auditErr := v.p.record(ctx, event); auditErr != nil || err != nil {
		if body != nil {
			body.Close()
		}
		return joinAudit(auditErr, err)
	}
	defer body.Close()
	contentType := object.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.FormatInt(object.Size, 10))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if object.SHA256 != "" {
		w.Header().Set("ETag", `"`+object.SHA256+`"`)
	}
	_, err = io.Copy(w, body)
	return err
}

func blobKey(tenant, id string) string { return tenant + "/blobs/" + id }

func newBlobID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

func isBlobID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}
