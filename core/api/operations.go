package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// operationTimeout bounds the provider operations that upload objects
// (transcription, imaging), whose bodies may be as large as
// limits.max_blob_size.
const operationTimeout = 30 * time.Minute

// operationRoutes serves the provider operations under /v1: chat,
// transcription, imaging, EHR import and push, and the jobs that run them
// in the background.
type operationRoutes struct {
	server *Server
	p      *Pipeline
}

func (s *Server) registerOperations(p *Pipeline) {
	o := &operationRoutes{server: s, p: p}
	blobLimit := s.cfg.Limits.MaxBlobSize.Or(DefaultMaxBlobSize)
	chatTimeout := p.Operations.ChatTimeout.Or(DefaultChatTimeout)
	uploads := []string{"multipart/form-data", ContentTypeJSON}
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/chat", Consumes: []string{ContentTypeJSON}, Timeout: chatTimeout, Handler: o.chat})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/transcriptions", Consumes: uploads, MaxBody: blobLimit, Timeout: operationTimeout, Handler: o.transcribe})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/imaging/studies", Consumes: []string{"application/dicom", "multipart/form-data"}, MaxBody: blobLimit, Timeout: operationTimeout, Handler: o.readStudy})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/imaging/analyses", Consumes: uploads, MaxBody: blobLimit, Timeout: operationTimeout, Handler: o.analyze})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/ehr/{connector}/import", Consumes: []string{ContentTypeJSON}, Handler: o.ehrImport})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/ehr/{connector}/push", Consumes: []string{ContentTypeJSON}, Handler: o.ehrPush})
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/jobs", Handler: o.listJobs})
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/jobs/{id}", Handler: o.getJob})
	s.Handle(Route{Method: http.MethodPost, Path: "/v1/jobs/{id}/retry", Handler: o.retryJob})
}

// limitJSON caps the JSON form of a route that also takes large uploads
// at limits.max_body_size, so that only uploads may be as large as
// limits.max_blob_size.
func (o *operationRoutes) limitJSON(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, o.server.cfg.Limits.MaxBodySize.Or(DefaultMaxBodySize))
}

// decodeRequest reads a JSON request body, validates it against the hub
// request schema name (none when empty) and decodes it into v.
func (p *Pipeline) decodeRequest(ctx context.Context, r *http.Request, name string, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	return p.decodeDocument(ctx, body, name, v)
}

func (p *Pipeline) decodeDocument(ctx context.Context, body []byte, name string, v any) error {
	if name != "" {
		if err := p.Validator.ValidateRequest(ctx, name, body); err != nil {
			return err
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		return issueAt(sdk.CodeInvalid, "", "", "read request body: %v", err)
	}
	return nil
}
