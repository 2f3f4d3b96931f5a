package openaitest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

// Server is an OpenAI-compatible test server on 127.0.0.1.
type Server struct {
	*httptest.Server

	// APIKey is the bearer key requests must carry; "" accepts any.
	APIKey string
	// Models lists the model ids the server serves.
	Models []string
	// Reply builds the assistant's reply from the chat request. The
	// default echoes the last user message.
	Reply func(ChatRequest) string
	// Hold, when not nil, pauses a streamed reply before its last content
	// chunk until Hold is closed or receives a value, so a test can prove
	// it saw earlier chunks first.
	Hold chan struct{}

	mu             sync.Mutex
	calls          map[string]int
	failures       map[string][]Failure
	transcripts    map[string]string
	lastChat       *ChatRequest
	lastTranscribe *TranscriptionRequest
}

// Failure is a scripted failure for the next request to a path.
type Failure struct {
	// Status and Header form the response; Body is written as is.
	Status int
	Header http.Header
	Body   string
	// Reset closes the connection with a TCP reset instead of sending a
	// response.
	Reset bool
}

// New starts a server with the given API key and models. The caller closes
// it.
func New(apiKey string, models ...string) *Server {
	s := &Server{
		APIKey:      apiKey,
		Models:      models,
		calls:       map[string]int{},
		failures:    map[string][]Failure{},
		transcripts: map[string]string{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/models", s.handleModels)
	mux.HandleFunc("POST /v1/chat/completions", s.handleChat)
	mux.HandleFunc("POST /v1/audio/transcriptions", s.handleTranscription)
	s.Server = httptest.NewServer(s.middleware(mux))
	return s
}

// BaseURL returns the API base URL, ending in /v1.
func (s *Server) BaseURL() string {
	return s.URL + "/v1"
}

// Fail scripts failures for the next requests to path, such as
// "/v1/chat/completions", one per request in order.
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

// LastChat returns the last chat request the server accepted, or nil.
func (s *Server) LastChat() *ChatRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastChat
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

		if failure != nil {
			s.fail(w, r, *failure)
			return
		}
		if s.APIKey != "" && r.Header.Get("Authorization") != "Bearer "+s.APIKey {
			writeError(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, failure Failure) {
	if failure.Reset {
		io.Copy(io.Discard, r.Body)
		resetConnection(w)
		return
	}
	for name, values := range failure.Header {
		w.Header()[name] = values
	}
	w.WriteHeader(failure.Status)
	w.Write([]byte(failure.Body))
}

func (s *Server) handleModels(w http.ResponseWriter, r *http.Request) {
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	list := struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{Object: "list", Data: []model{}}
	for _, id := range s.Models {
		list.Data = append(list.Data, model{ID: id, Object: "model", Created: 1700000000, OwnedBy: "openaitest"})
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) knownModel(id string) bool {
	for _, model := range s.Models {
		if model == id {
			return true
		}
	}
	return false
}

// writeError writes an error in the format of the OpenAI API.
func writeError(w http.ResponseWriter, status int, kind, code, message string) {
	body := map[string]any{"error": map[string]any{"message": message, "type": kind, "param": nil, "code": code}}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func words(text string) []string {
	return strings.Fields(text)
}
