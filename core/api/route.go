package api

import (
	"context"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// HandlerFunc serves a request and returns an error instead of writing it.
// The server writes a returned error as an OperationOutcome when the
// response has not started, and logs it otherwise.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// AuthMode is the authentication requirement of a route.
type AuthMode int

// Authentication modes of a Route.
const (
	// AuthRequired rejects requests without a valid credential (401) and
	// applies the per-subject rate limit.
	AuthRequired AuthMode = iota
	// AuthNone serves anyone, for health checks and the API description.
	AuthNone
)

// NoBodyLimit, as Route.MaxBody, leaves the body unlimited, for handlers
// that stream and enforce a limit of their own.
const NoBodyLimit = -1

// Route is one endpoint of the hub.
type Route struct {
	// Method is the HTTP method, such as "GET".
	Method string
	// Path is a net/http ServeMux path pattern, such as
	// "/fhir/{type}/{id}".
	Path string
	// Auth is the route's authentication requirement.
	Auth AuthMode
	// Consumes lists the media types accepted for a request body, or
	// "*/*" for any type. A body of another type gets 415. Empty for
	// routes that take no body.
	Consumes []string
	// Produces lists the media types of the route's responses. When set, a
	// request whose Accept header or _format names none of them gets 406.
	Produces []string
	// MaxBody is the largest body accepted, in bytes. Zero means
	// limits.max_body_size; NoBodyLimit means no limit.
	MaxBody int64
	// Timeout is the deadline of the route's handler, for routes that
	// stream large bodies. It also lifts the server's read and write
	// timeouts for the request. Zero means server.request_timeout.
	Timeout time.Duration
	// Handler serves the route.
	Handler HandlerFunc
}

// Pattern returns the route's ServeMux pattern, such as
// "GET /fhir/{type}".
func (rt Route) Pattern() string { return rt.Method + " " + rt.Path }

// wrap returns the handler chain of one route: authentication, rate
// limit, content type, body limit, then the route's handler.
func (s *Server) wrap(rt Route) http.Handler {
	pattern := rt.Pattern()
	maxBody := rt.MaxBody
	if maxBody == 0 {
		maxBody = s.cfg.Limits.MaxBodySize.Or(DefaultMaxBodySize)
	}
	timeout := rt.Timeout
	if timeout == 0 {
		timeout = s.cfg.Server.RequestTimeout.Or(DefaultRequestTimeout)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		state := stateFrom(r.Context())
		if state != nil {
			state.route = pattern
		}
		if rt.Timeout != 0 {
			extendDeadlines(w, rt.Timeout)
		}
		ctx, cancel := context.WithTimeout(r.Context(), timeout)
		defer cancel()
		r = r.WithContext(ctx)
		if err := s.admit(w, r, rt, state, maxBody); err != nil {
			WriteError(w, r, s.logger, err)
			return
		}
		if err := rt.Handler(w, r); err != nil {
			s.handlerFailed(w, r, err)
		}
	})
}

// admit runs the checks a request passes before its handler. It sets
// Retry-After itself when it rejects a request for its rate.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, rt Route, state *requestState, maxBody int64) error {
	if rt.Auth == AuthRequired {
		principal, err := s.authenticator.Authenticate(r.Context(), r)
		if err != nil {
			return err
		}
		if state != nil {
			state.principal = principal
		}
		if ok, delay := s.limiter.allow(principal.RateKey(), time.Now()); !ok {
			s.metrics.RateLimited()
			w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(delay)))
			return hubError(sdk.CodeThrottled, "rate limit of subject %q exceeded: retry after %s", principal.ID, delay.Round(time.Millisecond))
		}
	}
	if len(rt.Produces) > 0 {
		if err := checkAccept(r, rt.Produces); err != nil {
			return err
		}
	}
	if hasBody(r) {
		if err := checkContentType(r, rt.Consumes); err != nil {
			return err
		}
		if maxBody != NoBodyLimit {
			if r.ContentLength > maxBody {
				return hubError(sdk.CodeTooLong, "read request body: %d bytes is larger than the limit of %d bytes", r.ContentLength, maxBody)
			}
			r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		}
	}
	return nil
}

// extendDeadlines moves the connection's read and write deadlines to the
// route's timeout, for routes whose bodies take longer than the server's
// timeouts allow.
func extendDeadlines(w http.ResponseWriter, timeout time.Duration) {
	controller := http.NewResponseController(w)
	deadline := time.Now().Add(timeout)
	// Writers that do not support deadlines, such as test recorders, keep
	// the server's timeouts.
	_ = controller.SetReadDeadline(deadline)
	_ = controller.SetWriteDeadline(deadline)
}

func hasBody(r *http.Request) bool {
	return r.ContentLength > 0 || (r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody)
}

// checkContentType rejects a body whose media type the route does not
// consume, ignoring parameters such as charset.
func checkContentType(r *http.Request, consumes []string) error {
	header := r.Header.Get("Content-Type")
	if len(consumes) == 0 {
		return hubError(sdk.CodeInvalid, "this route takes no request body: send none")
	}
	mediaType, _, err := mime.ParseMediaType(header)
	accepted := err == nil && (slices.Contains(consumes, mediaType) || slices.Contains(consumes, "*/*"))
	if !accepted {
		got := header
		if got == "" {
			got = "none"
		}
		outcome := hubError(sdk.CodeNotSupported, "content type %q is not accepted here: send %s", got, consumes[0])
		return &unsupportedMediaType{outcome}
	}
	return nil
}

// checkAccept rejects a request that accepts none of the media types the
// route produces, such as one that requests XML with Accept or _format,
// rather than sending it a format it did not request.
func checkAccept(r *http.Request, produces []string) error {
	if format := r.URL.Query().Get("_format"); format != "" && format != "json" && !slices.Contains(produces, format) {
		return &notAcceptable{hubError(sdk.CodeNotSupported, "_format %q is not served: the hub writes %s, use _format=json or leave it out", truncate(format, 40), produces[0])}
	}
	header := r.Header.Get("Accept")
	if header == "" {
		return nil
	}
	for _, part := range strings.Split(header, ",") {
		mediaType, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		if mediaType == "*/*" || mediaType == "application/*" || slices.Contains(produces, mediaType) {
			return nil
		}
	}
	return &notAcceptable{hubError(sdk.CodeNotSupported, "Accept %q lists no type the hub writes: accept %s", truncate(header, 80), produces[0])}
}

// notAcceptable marks a 406 rejection.
type notAcceptable struct{ *sdk.Outcome }

func (e *notAcceptable) Unwrap() error { return e.Outcome }

// unsupportedMediaType marks a 415 rejection, which shares the issue code
// not-supported with the 501 of an unimplemented operation.
type unsupportedMediaType struct{ *sdk.Outcome }

func (e *unsupportedMediaType) Unwrap() error { return e.Outcome }

func (s *Server) handlerFailed(w http.ResponseWriter, r *http.Request, err error) {
	recorder, _ := w.(*statusWriter)
	if recorder == nil || !recorder.written() {
		WriteError(w, r, s.logger, err)
		return
	}
	if isClientGone(r.Context(), err) {
		return
	}
	s.logger.WarnContext(r.Context(), "request failed after its response started",
		"request_id", RequestID(r.Context()), "error", err)
}
