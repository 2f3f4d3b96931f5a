package api

import (
	"context"
	_ "embed"
	"net/http"
	"slices"
	"strconv"
	"time"
)

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 description of the hub's routes,
// as served at /openapi.json.
func OpenAPIDocument() []byte { return slices.Clone(openAPIDocument) }

// readinessTimeout bounds each readiness check.
const readinessTimeout = 2 * time.Second

type readinessCheck struct {
	name  string
	check func(context.Context) error
}

// AddReadinessCheck registers a check that /readyz runs, such as pinging
// the database. A failing check makes /readyz return 503.
func (s *Server) AddReadinessCheck(name string, check func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.readiness = append(s.readiness, readinessCheck{name: name, check: check})
}

func (s *Server) registerBuiltins() {
	s.Handle(Route{Method: http.MethodGet, Path: "/healthz", Auth: AuthNone, Handler: s.serveHealth})
	s.Handle(Route{Method: http.MethodGet, Path: "/readyz", Auth: AuthNone, Handler: s.serveReady})
	s.Handle(Route{Method: http.MethodGet, Path: "/openapi.json", Auth: AuthNone, Handler: serveOpenAPI})
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/session", Auth: AuthRequired, Handler: serveSession})
	if s.cfg.Metrics.enabled() && s.metrics != nil {
		mode := AuthNone
		if s.cfg.Metrics.RequireAuth {
			mode = AuthRequired
		}
		handler := s.metrics.Handler()
		s.Handle(Route{Method: http.MethodGet, Path: "/metrics", Auth: mode, Handler: func(w http.ResponseWriter, r *http.Request) error {
			handler.ServeHTTP(w, r)
			return nil
		}})
	}
}

type healthStatus struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// serveHealth returns 200 while the process serves HTTP at all, for
// liveness probes.
func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) error {
	return writeJSON(w, http.StatusOK, healthStatus{Status: "ok"})
}

// serveReady returns 200 when every readiness check passes and the server
// is not draining, 503 otherwise. Failure details go to the log, not to the
// unauthenticated caller.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) error {
	if s.draining.Load() {
		return writeJSON(w, http.StatusServiceUnavailable, healthStatus{Status: "shutting down"})
	}
	s.mu.Lock()
	checks := slices.Clone(s.readiness)
	s.mu.Unlock()

	status := healthStatus{Status: "ok", Checks: map[string]string{}}
	code := http.StatusOK
	for _, c := range checks {
		ctx, cancel := context.WithTimeout(r.Context(), readinessTimeout)
		err := c.check(ctx)
		cancel()
		if err != nil {
			s.logger.WarnContext(r.Context(), "readiness check failed", "check", c.name, "error", err)
			status.Checks[c.name] = "failing"
			status.Status, code = "unavailable", http.StatusServiceUnavailable
			continue
		}
		status.Checks[c.name] = "ok"
	}
	return writeJSON(w, code, status)
}

func serveOpenAPI(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "application/vnd.oai.openapi+json;version=3.1")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	_, err := w.Write(openAPIDocument)
	return err
}

// serveSession returns the authenticated subject: the principal that
// policies decide on.
func serveSession(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, PrincipalFrom(r.Context()))
}

// writeJSON writes v as a JSON response with status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := marshalJSON(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ContentTypeJSON)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, err = w.Write(body)
	return err
}
