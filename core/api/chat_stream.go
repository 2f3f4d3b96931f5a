package api

import (
	"context"
	"fmt"
	"net/http"
	"regexp"

	"github.com/healthhub/healthhub/core/fhir"
	"github.com/healthhub/healthhub/sdk"
)

// Server-sent event names of a streamed chat.
const (
	// eventDelta carries a piece of the reply: {"content": "..."}.
	eventDelta = "delta"
	// eventDone ends a stream that succeeded: the model, finish reason,
	// usage and audit id.
	eventDone = "done"
	// eventError ends a stream that failed after it started, with an
	// OperationOutcome.
	eventError = "error"
)

// chatDone is the data of the final event of a streamed chat.
type chatDone struct {
	Model        string    `json:"model,omitempty"`
	FinishReason string    `json:"finish_reason,omitempty"`
	Usage        sdk.Usage `json:"usage"`
	AuditID      string    `json:"audit_id"`
}

// sseWriter writes server-sent events and flushes each one, so that a
// client sees every piece as the provider produces it.
type sseWriter struct {
	w          http.ResponseWriter
	controller *http.ResponseController
	started    bool
}

func newSSEWriter(w http.ResponseWriter) *sseWriter {
	return &sseWriter{w: w, controller: http.NewResponseController(w)}
}

// start sends the response headers. X-Accel-Buffering: no keeps nginx
// and proxies that honour it from buffering the stream.
func (s *sseWriter) start() {
	if s.started {
		return
	}
	s.started = true
	header := s.w.Header()
	header.Set("Content-Type", "text/event-stream; charset=utf-8")
	header.Set("Cache-Control", "no-cache")
	header.Set("X-Accel-Buffering", "no")
	header.Set("X-Content-Type-Options", "nosniff")
	s.w.WriteHeader(http.StatusOK)
}

// send writes one event whose data is v as JSON on one line.
func (s *sseWriter) send(name string, v any) error {
	s.start()
	data, err := marshalJSON(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", name, data); err != nil {
		return err
	}
	return s.controller.Flush()
}

// streamChat streams the reply as server-sent events. The audit event of
// the call is written before the first piece reaches the client, so that
// no reply leaves without its record. A failure after that is recorded in
// a second event and ends the stream with an error event.
func (o *operationRoutes) streamChat(w http.ResponseWriter, r *http.Request, call *providerCall, chatReq sdk.ChatRequest, payloadHash string) error {
	ctx := r.Context()
	sse := newSSEWriter(w)
	restorer := newStreamRestorer(call)
	auditID := ""
	emit := func(text string) error {
		if text == "" {
			return nil
		}
		if auditID == "" {
			// NOTE: the model the provider used is known only at the end of
			// the stream, so this event names the requested model, which
			// is empty when the request left the choice to the provider.
			id, err := call.finish(ctx, chatReq.Model, payloadHash, nil)
			if err != nil {
				return err
			}
			auditID = id
		}
		return sse.send(eventDelta, sdk.ChatDelta{Content: text})
	}

	resp, err := o.chatStream(ctx, call.provider.ChatModel, chatReq, func(delta sdk.ChatDelta) error {
		return emit(restorer.push(delta.Content))
	})
	if err == nil {
		err = emit(restorer.flush())
	}
	if err != nil {
		return o.streamFailed(ctx, sse, call, chatReq, payloadHash, auditID, err)
	}
	if auditID == "" {
		if auditID, err = call.finish(ctx, cmpModel(resp, chatReq), payloadHash, nil); err != nil {
			return err
		}
	}
	return sse.send(eventDone, chatDone{Model: resp.Model, FinishReason: resp.FinishReason, Usage: resp.Usage, AuditID: auditID})
}

// chatStream streams from a ChatStreamer, or sends a whole reply as one
// piece for a model that does not stream.
func (o *operationRoutes) chatStream(ctx context.Context, model sdk.ChatModel, req sdk.ChatRequest, emit func(sdk.ChatDelta) error) (*sdk.ChatResponse, error) {
	if streamer, ok := model.(sdk.ChatStreamer); ok {
		return streamer.ChatStream(ctx, req, emit)
	}
	resp, err := model.Chat(ctx, req)
	if err != nil {
		return nil, err
	}
	return resp, emit(sdk.ChatDelta{Content: resp.Message.Content})
}

// streamFailed ends a failed stream: before the first event it is an
// ordinary error response, after it an error event.
func (o *operationRoutes) streamFailed(ctx context.Context, sse *sseWriter, call *providerCall, chatReq sdk.ChatRequest, payloadHash, auditID string, err error) error {
	if auditID == "" {
		_, err = call.finish(ctx, chatReq.Model, payloadHash, err)
		return err
	}
	_, err = call.finish(ctx, chatReq.Model, payloadHash, err)
	if isClientGone(ctx, err) {
		return nil
	}
	outcome := sdk.AsOutcome(err)
	if StatusFor(nil, err) == http.StatusInternalServerError {
		o.p.Logger.ErrorContext(ctx, "chat stream failed", "request_id", call.req.id, "error", err)
		outcome = sdk.Errorf(sdk.CodeException, "internal error: the hub logged it under request id %s", call.req.id)
	}
	return sse.send(eventError, fhir.NewOperationOutcome(outcome))
}

func cmpModel(resp *sdk.ChatResponse, req sdk.ChatRequest) string {
	if resp != nil && resp.Model != "" {
		return resp.Model
	}
	return req.Model
}

// tokenRun matches the characters a pseudonym token consists of.
var tokenRun = regexp.MustCompile(`[0-9a-f-]+$`)

// tokenLength is the length of a pseudonym token, a UUID.
const tokenLength = 36

// streamRestorer maps pseudonym tokens in a streamed reply back to the
// real values, also when a token is split across pieces. It holds back a
// piece's tail that may be the start of a token until the next piece
// shows whether it is one.
type streamRestorer struct {
	call    *providerCall
	pending string
}

func newStreamRestorer(call *providerCall) *streamRestorer {
	return &streamRestorer{call: call}
}

// push adds a piece and returns the text that is safe to send.
func (s *streamRestorer) push(piece string) string {
	if !s.call.decision.Obligations.Reidentify {
		return piece
	}
	s.pending += piece
	cut := holdBack(s.pending)
	ready := s.pending[:cut]
	s.pending = s.pending[cut:]
	return s.call.restoreReply(ready)
}

// flush returns what is held back, at the end of the stream.
func (s *streamRestorer) flush() string {
	rest := s.pending
	s.pending = ""
	if !s.call.decision.Obligations.Reidentify {
		return rest
	}
	return s.call.restoreReply(rest)
}

// holdBack returns where the tail of text that may still grow into a
// token starts: the trailing run of hex digits and hyphens, when it is
// shorter than a token. A longer run holds back its last tokenLength-1
// characters, past the end of the last complete token in it.
func holdBack(text string) int {
	loc := tokenRun.FindStringIndex(text)
	if loc == nil {
		return len(text)
	}
	start := loc[0]
	if len(text)-start < tokenLength {
		return start
	}
	cut := len(text) - (tokenLength - 1)
	if matches := tokenPattern.FindAllStringIndex(text[start:], -1); len(matches) > 0 {
		end := start + matches[len(matches)-1][1]
		if end > cut {
			cut = end
		}
		for _, m := range matches {
			if start+m[0] < cut && cut < start+m[1] {
				cut = start + m[1]
			}
		}
	}
	return cut
}

// tokenPattern matches a pseudonym token: a random (version 4) UUID in
// lower case, as package obligation makes them.
var tokenPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)
