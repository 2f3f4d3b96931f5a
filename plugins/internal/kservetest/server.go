package kservetest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
)

// TensorSpec is a tensor as the model metadata declares it. -1 in Shape
// is a variable dimension.
type TensorSpec struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

// Tensor is an input or output tensor of an inference call.
type Tensor struct {
	Name     string
	Datatype string
	Shape    []int64
	// Values holds the elements of numeric and BOOL tensors, in row-major
	// order.
	Values []float64
	// Bytes holds the decoded elements of BYTES tensors.
	Bytes [][]byte
}

// Model is a model the server serves.
type Model struct {
	Name     string
	Versions []string
	Platform string
	Inputs   []TensorSpec
	Outputs  []TensorSpec
	// Infer computes the outputs from the checked inputs. Nil uses
	// MeanIntensityScores.
	Infer func(inputs []Tensor) ([]Tensor, error)
}

// Failure is a scripted failure for the next request to a path.
type Failure struct {
	Status int
	Header http.Header
	Body   string
	// Reset closes the connection with a TCP reset instead of sending a
	// response.
	Reset bool
}

// Server is a KServe v2 test server on 127.0.0.1.
type Server struct {
	*httptest.Server

	mu        sync.Mutex
	models    map[string]*Model
	notReady  bool
	calls     map[string]int
	failures  map[string][]Failure
	lastInfer []Tensor
}

// New starts a server that serves models. The caller closes it.
func New(models ...*Model) *Server {
	s := &Server{models: map[string]*Model{}, calls: map[string]int{}, failures: map[string][]Failure{}}
	for _, m := range models {
		s.models[m.Name] = m
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	mux.HandleFunc("GET /v2/health/ready", s.handleServerReady)
	for _, prefix := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		mux.HandleFunc("GET "+prefix, s.handleMetadata)
		mux.HandleFunc("GET "+prefix+"/ready", s.handleModelReady)
		mux.HandleFunc("POST "+prefix+"/infer", s.handleInfer)
	}
	s.Server = httptest.NewServer(s.middleware(mux))
	return s
}

// SetReady sets whether the server reports itself ready.
func (s *Server) SetReady(ready bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notReady = !ready
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

// LastInputs returns the input tensors of the last accepted inference.
func (s *Server) LastInputs() []Tensor {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastInfer
}

func (s *Server) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path]++
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

func (s *Server) handleServerReady(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	ready := !s.notReady
	s.mu.Unlock()
	if !ready {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// model returns the model the request names, writing a 404 when there is
// none.
func (s *Server) model(w http.ResponseWriter, r *http.Request) *Model {
	s.mu.Lock()
	m := s.models[r.PathValue("name")]
	s.mu.Unlock()
	version := r.PathValue("version")
	if m == nil || (version != "" && !contains(m.Versions, version)) {
		writeError(w, http.StatusNotFound, "Model with name "+r.PathValue("name")+" and version "+version+" does not exist.")
		return nil
	}
	return m
}

func (s *Server) handleMetadata(w http.ResponseWriter, r *http.Request) {
	m := s.model(w, r)
	if m == nil {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name": m.Name, "versions": m.Versions, "platform": m.Platform,
		"inputs": m.Inputs, "outputs": m.Outputs,
	})
}

func (s *Server) handleModelReady(w http.ResponseWriter, r *http.Request) {
	if m := s.model(w, r); m != nil {
		writeJSON(w, http.StatusOK, map[string]any{"name": m.Name, "ready": true})
	}
}

func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]string{"error": message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func contains(list []string, value string) bool {
	for _, item := range list {
		if item == value {
			return true
		}
	}
	return false
}
