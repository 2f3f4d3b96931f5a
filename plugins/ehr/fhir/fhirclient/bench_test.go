package fhirclient

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/healthhub/healthhub/sdk"
)

// BenchmarkFHIR compares read, search and create through the plugin, with
// SMART authorization on, against the same requests from a bare net/http
// client that carries a token it obtained once.
func BenchmarkFHIR(b *testing.B) {
	server := startServer(b)
	seed := openClient(b, Config{BaseURL: server.BaseURL()})
	patient := readTestdata(b, "fhir-r4-examples", "Patient-example.json")
	if _, err := seed.Update(ctx, patient, ""); err != nil {
		b.Fatal(err)
	}
	observation := readTestdata(b, "fhir-r4-examples", "Observation-example.json")
	for range 20 {
		if _, err := seed.Create(ctx, observation); err != nil {
			b.Fatal(err)
		}
	}

	key := testRSAKey(b)
	server.RegisterClient(clientID, "rsa-1", &key.PublicKey, "system/*.read system/*.write")
	c := openClient(b, Config{BaseURL: server.BaseURL(), Auth: AuthConfig{
		Type: AuthSMARTBackend, ClientID: clientID, KeyID: "rsa-1", PrivateKeyFile: writeKey(b, key), Scope: "system/*.read system/*.write",
	}})
	authorization, err := c.state.Load().auth.authorization(ctx)
	if err != nil {
		b.Fatal(err)
	}
	direct := &http.Client{}
	search := sdk.SearchRequest{ResourceType: "Observation", Params: url.Values{"_count": {"10"}}}

	cases := []struct {
		name   string
		plugin func() error
		direct func() *http.Request
	}{
		{"read", func() error { _, err := c.Read(ctx, "Patient", "example"); return err },
			func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, server.BaseURL()+"/Patient/example", nil)
				return r
			}},
		{"search", func() error { _, err := c.Search(ctx, search); return err },
			func() *http.Request {
				r, _ := http.NewRequest(http.MethodGet, server.BaseURL()+"/Observation?_count=10", nil)
				return r
			}},
		{"create", func() error { _, err := c.Create(ctx, observation); return err },
			func() *http.Request {
				r, _ := http.NewRequest(http.MethodPost, server.BaseURL()+"/Observation", bytes.NewReader(observation))
				r.Header.Set("Content-Type", fhirJSON)
				return r
			}},
	}
	for _, tc := range cases {
		b.Run(tc.name+"/plugin", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := tc.plugin(); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/direct", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := tc.direct()
				req.Header.Set("Accept", fhirJSON)
				req.Header.Set("Authorization", authorization)
				resp, err := direct.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				var resource map[string]json.RawMessage
				if err := json.NewDecoder(resp.Body).Decode(&resource); err != nil || resp.StatusCode >= 300 {
					b.Fatalf("status %d: %v", resp.StatusCode, err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
}
