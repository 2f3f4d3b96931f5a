package daemon

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
)

// benchHub assembles a hub in the benchmark's temporary directory, with no
// plugins, no access log and no rate limit, and returns it with a
// clinician token.
func benchHub(b *testing.B) (*Daemon, string) {
	b.Helper()
	cfg, _, err := config.Load("", []string{
		"HUB_DATA_DIR=" + b.TempDir(), "HUB_PLUGINS_DIR=" + b.TempDir(),
		"HUB_LOGGING_ACCESS_LOG=false", "HUB_LIMITS_RATE_LIMIT_DISABLED=true",
	})
	require.NoError(b, err)
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(b, err)
	d, err := New(context.Background(), cfg, key, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(b, err)
	b.Cleanup(func() { _ = d.server.Close(context.Background()) })

	issuer, err := auth.NewIssuer(key, cfg.Auth)
	require.NoError(b, err)
	token, err := issuer.Issue(auth.TokenRequest{Subject: "bench", Roles: []string{"clinician"}, Tenant: "bench", Scopes: []string{"user/*.cruds"}})
	require.NoError(b, err)
	return d, token.Token
}

const patientBody = `{"resourceType":"Patient","identifier":[{"system":"https://bench/mrn","value":"b-%d"}],` +
	`"active":true,"name":[{"use":"official","family":"Benchmark","given":["Load"]}],"gender":"unknown","birthDate":"1970-01-01"}`

func serve(d *Daemon, method, target, token, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/fhir+json")
	}
	rec := httptest.NewRecorder()
	d.server.ServeHTTP(rec, r)
	return rec
}

// BenchmarkPostPatient creates Patients one after another through the whole
// pipeline: authentication, validation, policy, store and audit with
// synchronous=FULL.
func BenchmarkPostPatient(b *testing.B) {
	d, token := benchHub(b)
	i := 0
	for b.Loop() {
		i++
		rec := serve(d, http.MethodPost, "/fhir/Patient", token, fmt.Sprintf(patientBody, i))
		if rec.Code != http.StatusCreated {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}

// BenchmarkGetPatient reads one Patient from parallel goroutines through
// the whole pipeline.
func BenchmarkGetPatient(b *testing.B) {
	d, token := benchHub(b)
	rec := serve(d, http.MethodPost, "/fhir/Patient", token, fmt.Sprintf(patientBody, 0))
	require.Equal(b, http.StatusCreated, rec.Code, rec.Body.String())
	var created struct{ ID string }
	require.NoError(b, json.Unmarshal(rec.Body.Bytes(), &created))

	b.SetParallelism(16)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rec := serve(d, http.MethodGet, "/fhir/Patient/"+created.ID, token, "")
			if rec.Code != http.StatusOK {
				b.Errorf("status %d", rec.Code)
				return
			}
		}
	})
}
