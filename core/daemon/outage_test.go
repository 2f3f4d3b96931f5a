package daemon

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/internal/dbtest"
)

// tcpProxy forwards connections from a loopback port to target. Closing it
// drops every forwarded connection and refuses new ones, as a database
// outage does. Reopening listens on the same port again.
type tcpProxy struct {
	target string
	addr   string

	mu       sync.Mutex
	listener net.Listener
	conns    []net.Conn
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target}
	require.NoError(t, p.open("127.0.0.1:0"))
	t.Cleanup(p.close)
	return p
}

func (p *tcpProxy) open(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.listener, p.addr = l, l.Addr().String()
	p.mu.Unlock()
	go p.accept(l)
	return nil
}

func (p *tcpProxy) accept(l net.Listener) {
	for {
		client, err := l.Accept()
		if err != nil {
			return
		}
		server, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, client, server)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(server, client); server.Close() }()
		go func() { _, _ = io.Copy(client, server); client.Close() }()
	}
}

func (p *tcpProxy) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.listener != nil {
		p.listener.Close()
		p.listener = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// With the store's database out of reach, clients get 503 with code
// transient, so that they retry, and no detail of the database.
func TestStoreOutageAnswers503(t *testing.T) {
	schemaURL, err := url.Parse(dbtest.PostgresSchema(t))
	require.NoError(t, err)
	proxy := startProxy(t, schemaURL.Host)
	proxied := *schemaURL
	proxied.Host = proxy.addr
	h := newInProcessHub(t, func(cfg *config.Config) {
		cfg.Store.Driver = "postgres"
		cfg.Store.URL = proxied.String()
	})
	patient := h.createPatient(t)

	proxy.close()
	for _, target := range []string{"/fhir/" + patient, "/fhir/Patient?family=Quillfeather"} {
		status, body := h.do(t, http.MethodGet, target, "", nil)
		assert.Equal(t, http.StatusServiceUnavailable, status, "%s: %s", target, body)
		code, _ := outcomeOf(t, body)
		assert.Equal(t, "transient", code, target)
		assert.NotContains(t, string(body), proxy.addr, "the outcome names no database address")
	}
	status, body := h.do(t, http.MethodPost, "/fhir/Patient", "application/fhir+json", []byte(`{"resourceType":"Patient"}`))
	assert.Equal(t, http.StatusServiceUnavailable, status, string(body))

	require.NoError(t, proxy.open(proxy.addr))
	var recovered int
	for range 40 {
		if recovered, _ = h.do(t, http.MethodGet, "/fhir/"+patient, "", nil); recovered == http.StatusOK {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	assert.Equal(t, http.StatusOK, recovered, "the hub serves again once the database is back")
}

// outcomeOf returns the code and diagnostics of an OperationOutcome's first
// issue.
func outcomeOf(t *testing.T, body []byte) (string, string) {
	t.Helper()
	var outcome struct {
		Issue []struct {
			Code        string `json:"code"`
			Diagnostics string `json:"diagnostics"`
		} `json:"issue"`
	}
	require.NoError(t, json.Unmarshal(body, &outcome), string(body))
	if len(outcome.Issue) == 0 {
		t.Fatal("the OperationOutcome has no issue")
	}
	return outcome.Issue[0].Code, outcome.Issue[0].Diagnostics
}
