package api

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/metrics"
	"github.com/healthhub/healthhub/sdk"
)

// Authenticator turns a request's credential into a principal;
// *auth.Authenticator implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, r *http.Request) (*auth.Principal, error)
}

// Config is the configuration of a Server.
type Config struct {
	// Server, Limits and Metrics are the sections of the hub
	// configuration.
	Server  ServerConfig
	Limits  LimitsConfig
	Metrics MetricsConfig
	// AccessLog logs one line per request.
	AccessLog bool
}

// Server is the hub's HTTP server. Register routes with Handle before
// Serve; the server is then safe for concurrent requests.
type Server struct {
	cfg           Config
	logger        *slog.Logger
	authenticator Authenticator
	metrics       *metrics.Metrics
	limiter       *rateLimiter
	accessLog     bool
	mux           *http.ServeMux
	routes        []Route
	handler       http.Handler
	draining      atomic.Bool
	mu            sync.Mutex
	readiness     []readinessCheck
	stops         []func(context.Context) error
}

// New returns a server with the built-in routes: /healthz, /readyz,
// /metrics (unless disabled), /openapi.json and /v1/session.
func New(cfg Config, authenticator Authenticator, recorder *metrics.Metrics, logger *slog.Logger) (*Server, error) {
	if authenticator == nil || logger == nil {
		return nil, errors.New("create server: an authenticator and a logger are required")
	}
	s := &Server{
		cfg:           cfg,
		logger:        logger,
		authenticator: authenticator,
		metrics:       recorder,
		limiter:       newRateLimiter(cfg.Limits.RateLimit),
		accessLog:     cfg.AccessLog,
		mux:           http.NewServeMux(),
	}
	s.handler = s.observe(http.HandlerFunc(s.route))
	s.registerBuiltins()
	return s, nil
}

// Handle registers a route. It panics when the pattern conflicts with a
// registered one, as http.ServeMux does, because that is a programming
// error.
func (s *Server) Handle(rt Route) {
	s.mux.Handle(rt.Pattern(), s.wrap(rt))
	s.routes = append(s.routes, rt)
}

// Routes returns the registered routes in registration order.
func (s *Server) Routes() []Route { return slices.Clone(s.routes) }

// ServeHTTP serves a request through the middleware and the routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// OnShutdown registers stop to run after the last request has drained, such
// as stopping the plugins. Functions run in reverse order of registration.
func (s *Server) OnShutdown(stop func(context.Context) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stops = append(s.stops, stop)
}

// route dispatches to the matching route. Unknown paths (404) and known
// paths with another method (405) get an OperationOutcome instead of the
// ServeMux's plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	probe := &statusProbe{header: http.Header{}}
	s.mux.ServeHTTP(probe, r)
	switch probe.status {
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", probe.header.Get("Allow"))
		WriteOutcome(w, http.StatusMethodNotAllowed, hubError(sdk.CodeNotSupported, "method %s is not allowed on %s: use %s", r.Method, r.URL.Path, probe.header.Get("Allow")))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		http.Redirect(w, r, probe.header.Get("Location"), probe.status)
	default:
		WriteOutcome(w, http.StatusNotFound, hubError(sdk.CodeNotFound, "no endpoint at %s: see /openapi.json for the hub's routes", r.URL.Path))
	}
}

// statusProbe records the status and headers the ServeMux's own handlers
// would write.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header { return p.header }

func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }

func (p *statusProbe) WriteHeader(status int) {
	if p.status == 0 {
		p.status = status
	}
}

// Serve serves on ln until ctx is cancelled, then shuts down gracefully:
// /readyz turns 503, new connections are refused, requests in flight drain
// for up to server.shutdown_timeout, and the OnShutdown functions run.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if address := s.cfg.Server.PprofListen; address != "" {
		if err := s.servePprof(ctx, address); err != nil {
			return fmt.Errorf("serve profiler on %s: %w", address, err)
		}
	}
	srv := s.httpServer(ctx)
	errs := make(chan error, 1)
	go func() {
		if s.cfg.Server.TLSCertFile != "" {
			errs <- srv.ServeTLS(ln, s.cfg.Server.TLSCertFile, s.cfg.Server.TLSKeyFile)
			return
		}
		errs <- srv.Serve(ln)
	}()
	s.logger.Info("hub listening", "address", ln.Addr().String(), "tls", s.cfg.Server.TLSCertFile != "")

	select {
	case err := <-errs:
		stopErr := s.stop(context.WithoutCancel(ctx))
		return errors.Join(fmt.Errorf("serve: %w", err), stopErr)
	case <-ctx.Done():
	}
	return s.shutdown(context.WithoutCancel(ctx), srv)
}

func (s *Server) httpServer(ctx context.Context) *http.Server {
	cfg := s.cfg.Server
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout.Or(DefaultReadHeaderTimeout),
		ReadTimeout:       cfg.ReadTimeout.Or(DefaultReadTimeout),
		WriteTimeout:      cfg.WriteTimeout.Or(DefaultWriteTimeout),
		IdleTimeout:       cfg.IdleTimeout.Or(DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
		// Requests keep running when ctx is cancelled; shutdown drains them.
		BaseContext: func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

func (s *Server) shutdown(ctx context.Context, srv *http.Server) error {
	s.draining.Store(true)
	timeout := s.cfg.Server.ShutdownTimeout.Or(DefaultShutdownTimeout)
	s.logger.Info("hub shutting down: draining requests", "timeout", timeout.String())

	drainCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var drainErr error
	if err := srv.Shutdown(drainCtx); err != nil {
		s.logger.Warn("requests still running at the end of the drain; closing their connections", "error", err)
		drainErr = errors.Join(fmt.Errorf("drain requests: %w", err), srv.Close())
	}

	stopErr := s.stop(ctx)
	s.logger.Info("hub stopped")
	return errors.Join(drainErr, stopErr)
}

// Close runs the OnShutdown functions in reverse order, for embedders that
// serve requests through ServeHTTP without Serve. Serve calls them itself.
func (s *Server) Close(ctx context.Context) error { return s.stop(ctx) }

// stop runs the OnShutdown functions in reverse order.
func (s *Server) stop(ctx context.Context) error {
	s.mu.Lock()
	stops := slices.Clone(s.stops)
	s.mu.Unlock()
	var errs []error
	for _, stop := range slices.Backward(stops) {
		if err := stop(ctx); err != nil {
			s.logger.Error("shutdown step failed", "error", err)
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
