package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// HeaderRequestID carries the request id, in the request (optional) and
// in the response.
const HeaderRequestID = "X-Request-ID"

const maxRequestIDLength = 128

// unmatchedRoute labels requests that matched no route, in logs and
// metrics, so that scanned paths do not grow the label set.
const unmatchedRoute = "unmatched"

// observe is the outermost middleware: it assigns the request id, recovers
// panics, and records the access log line and the request metrics.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		state := &requestState{id: requestIDFrom(r), route: unmatchedRoute}
		ctx := context.WithValue(r.Context(), stateKey, state)
		r = r.WithContext(ctx)
		w.Header().Set(HeaderRequestID, state.id)
		recorder := &statusWriter{ResponseWriter: w}
		done := s.metrics.RequestStarted()
		defer done()

		defer func() {
			if recovered := recover(); recovered != nil {
				if recovered == http.ErrAbortHandler {
					panic(recovered)
				}
				s.recoverPanic(recorder, r, recovered)
			}
			elapsed := time.Since(start)
			status := recorder.status
			if status == 0 {
				status = http.StatusOK
			}
			s.metrics.ObserveRequest(state.route, r.Method, status, elapsed)
			s.logAccess(r, state, status, recorder.bytes, elapsed)
		}()
		next.ServeHTTP(recorder, r)
	})
}

// recoverPanic logs a panic with its stack and writes a 500 when the
// response has not started. The panic value is logged, never sent.
func (s *Server) recoverPanic(w *statusWriter, r *http.Request, recovered any) {
	s.logger.ErrorContext(r.Context(), "panic while serving request",
		"request_id", RequestID(r.Context()), "route", stateFrom(r.Context()).route,
		"panic", fmt.Sprint(recovered), "stack", string(debug.Stack()))
	if w.written() {
		return
	}
	outcome := sdk.Errorf(sdk.CodeException, "internal error: the hub logged it under request id %s", RequestID(r.Context()))
	WriteOutcome(w, http.StatusInternalServerError, outcome)
}

// logAccess writes one line per request. It logs the path but never the
// query string, because FHIR search parameters carry names, birth dates and
// identifiers.
func (s *Server) logAccess(r *http.Request, state *requestState, status int, size int64, elapsed time.Duration) {
	if !s.accessLog {
		return
	}
	attrs := []slog.Attr{
		slog.String("request_id", state.id),
		slog.String("method", r.Method),
		slog.String("route", state.route),
		slog.String("path", r.URL.Path),
		slog.Int("status", status),
		slog.Int64("bytes", size),
		slog.Float64("duration_ms", float64(elapsed.Microseconds())/1000),
		slog.String("remote", r.RemoteAddr),
	}
	if state.principal != nil {
		attrs = append(attrs, slog.String("subject", state.principal.ID), slog.String("tenant", state.principal.Tenant))
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// requestIDFrom keeps a client's X-Request-ID when it is a safe token and
// makes a random one otherwise.
func requestIDFrom(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); id != "" && len(id) <= maxRequestIDLength && isToken(id) {
		return id
	}
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		ok := c == '.' || c == '-' || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			return false
		}
	}
	return true
}
