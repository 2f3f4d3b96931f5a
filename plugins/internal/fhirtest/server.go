package fhirtest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Failure is a scripted failure for the next request to a path.
type Failure struct {
	Status int
	Header http.Header
	Body   string
	// Reset closes the connection with a TCP reset instead of sending a
	// response.
	Reset bool
}

// Server is a FHIR R4 test server on 127.0.0.1. The FHIR base URL is
// URL + "/fhir".
type Server struct {
	*httptest.Server

	// PageSize is the page size of searches without _count. Default 10.
	PageSize int
	// MinimalCreate makes create and update respond with an empty body, as
	// servers that ignore "Prefer: return=representation" do.
	MinimalCreate bool

	mu       sync.Mutex
	store    *store
	auth     *authority
	calls    map[string]int
	failures map[string][]Failure
	requests []string
	nextID   int
	now      func() time.Time
}

// New starts a server with an empty store and no authorization. The caller
// closes it.
func New() *Server {
	s := &Server{store: newStore(), calls: map[string]int{}, failures: map[string][]Failure{}, now: time.Now}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /fhir/.well-known/smart-configuration", s.handleSMARTConfiguration)
	mux.HandleFunc("POST /auth/token", s.handleToken)
	mux.HandleFunc("GET /fhir/metadata", s.handleMetadata)
	mux.HandleFunc("GET /fhir/{type}/{id}", s.authorized(s.handleRead))
	mux.HandleFunc("GET /fhir/{type}/{id}/_history/{vid}", s.authorized(s.handleVersionRead))
	mux.HandleFunc("GET /fhir/{type}", s.authorized(s.handleSearch))
	mux.HandleFunc("POST /fhir/{type}", s.authorized(s.handleCreate))
	mux.HandleFunc("PUT /fhir/{type}/{id}", s.authorized(s.handleUpdate))
	mux.HandleFunc("POST /fhir", s.authorized(s.handleTransaction))
	mux.HandleFunc("POST /fhir/{$}", s.authorized(s.handleTransaction))
	s.Server = httptest.NewServer(s.middleware(mux))
	return s
}

// BaseURL returns the FHIR base URL.
func (s *Server) BaseURL() string {
	return s.URL + "/fhir"
}

// TokenURL returns the token endpoint's URL.
func (s *Server) TokenURL() string {
	return s.URL + "/auth/token"
}

// Fail scripts failures for the next requests to path, one per request.
func (s *Server) Fail(path string, failures ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures[path] = append(s.failures[path], failures...)
}

// Calls returns how many requests reached path, failures included.
func (s *Server) Calls(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[path]
}

// Requests returns "METHOD path?query" of every request, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

// Count returns how many current resources of a type the store holds.
func (s *Server) Count(resourceType string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.store.count(resourceType)
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path]++
		s.requests = append(s.requests, r.Method+" "+r.URL.RequestURI())
		var failure *Failure
		if queue := s.failures[r.URL.Path]; len(queue) > 0 {
			failure = &queue[0]
			s.failures[r.URL.Path] = queue[1:]
		}
		s.mu.Unlock()

		if failure == nil {
			next.ServeHTTP(w, r)
			return
		}
		io.Copy(io.Discard, r.Body)
		if failure.Reset {
			resetConnection(w)
			return
		}
		for name, values := range failure.Header {
			w.Header()[name] = values
		}
		w.WriteHeader(failure.Status)
		io.WriteString(w, failure.Body)
	})
}

func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		tcp.SetLinger(0)
	}
	conn.Close()
}

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	writeResource(w, http.StatusOK, map[string]any{
		"resourceType": "CapabilityStatement", "status": "active", "kind": "instance",
		"fhirVersion": "4.0.1", "format": []string{"json"},
		"date": "2025-01-01",
	})
}

// operationOutcome writes an OperationOutcome with one issue.
func operationOutcome(w http.ResponseWriter, status int, code, diagnostics string) {
	writeResource(w, status, map[string]any{
		"resourceType": "OperationOutcome",
		"issue":        []any{map[string]any{"severity": "error", "code": code, "diagnostics": diagnostics}},
	})
}

func writeResource(w http.ResponseWriter, status int, resource any) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(status)
	jsonEncode(w, resource)
}

// readResource decodes a request body as a JSON object, keeping numbers as
// written.
func readResource(r *http.Request) (map[string]any, error) {
	decoder := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 64<<20))
	decoder.UseNumber()
	var resource map[string]any
	if err := decoder.Decode(&resource); err != nil {
		return nil, err
	}
	return resource, nil
}

func acceptsFHIRJSON(r *http.Request) bool {
	accept := r.Header.Get("Accept")
	return accept == "" || strings.Contains(accept, "application/fhir+json") || strings.Contains(accept, "application/json") || strings.Contains(accept, "*/*")
}

func jsonEncode(w io.Writer, v any) {
	json.NewEncoder(w).Encode(v)
}
