package settings

import (
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

type nested struct {
	Mean []float64 `json:"mean"`
}

type sampleConfig struct {
	Endpoint string   `json:"endpoint"`
	Timeout  Duration `json:"timeout"`
	Retries  int      `json:"max_retries"`
	Input    nested   `json:"input"`
}

func issueOf(t *testing.T, err error) sdk.Issue {
	t.Helper()
	var outcome *sdk.Outcome
	require.ErrorAs(t, err, &outcome)
	require.NotEmpty(t, outcome.Issues)
	return outcome.Issues[0]
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		wantPath string
		wantText string
	}{
		{"type error nested", `{"input":{"mean":["x"]}}`, "/input/mean", "must be float64"},
		{"type error top", `{"max_retries":"two"}`, "/max_retries", "must be int"},
		{"unknown field", `{"endpont":"x"}`, "", `unknown setting "endpont"`},
		{"bad duration", `{"timeout":"30"}`, "", `"30" is not valid`},
		{"duration number", `{"timeout":30}`, "", "must be a string"},
		{"trailing data", `{} {}`, "", "unexpected data"},
		{"syntax", `{"endpoint":`, "", "configure p:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var cfg sampleConfig
			err := Decode(json.RawMessage(tc.raw), &cfg, "p")
			issue := issueOf(t, err)
			assert.Equal(t, tc.wantPath, issue.Path)
			assert.Contains(t, issue.Diagnostics, tc.wantText)
			assert.ErrorIs(t, err, sdk.ErrInvalid)
		})
	}
}

func TestDecodeValid(t *testing.T) {
	var cfg sampleConfig
	require.NoError(t, Decode(json.RawMessage(`{"endpoint":"http://127.0.0.1/v1","timeout":"1m30s","input":{"mean":[0.5]}}`), &cfg, "p"))
	assert.Equal(t, "http://127.0.0.1/v1", cfg.Endpoint)
	assert.Equal(t, 90*time.Second, time.Duration(cfg.Timeout))
	assert.Equal(t, []float64{0.5}, cfg.Input.Mean)

	untouched := sampleConfig{Retries: 7}
	require.NoError(t, Decode(json.RawMessage(`null`), &untouched, "p"))
	require.NoError(t, Decode(nil, &untouched, "p"))
	assert.Equal(t, 7, untouched.Retries)
}

func TestDurationOr(t *testing.T) {
	assert.Equal(t, 5*time.Second, Duration(0).Or(5*time.Second))
	assert.Equal(t, time.Second, Duration(time.Second).Or(5*time.Second))
	encoded, err := json.Marshal(Duration(1500 * time.Millisecond))
	require.NoError(t, err)
	assert.Equal(t, `"1.5s"`, string(encoded))
}

func TestEndpoint(t *testing.T) {
	tests := []struct {
		name          string
		raw           string
		allowInsecure bool
		want          string
		wantErr       string
	}{
		{"https adds slash", "https://api.example.com/v1", false, "https://api.example.com/v1/", ""},
		{"loopback http", "http://127.0.0.1:11434/v1/", false, "http://127.0.0.1:11434/v1/", ""},
		{"localhost http", "http://localhost:8000", false, "http://localhost:8000/", ""},
		{"remote http rejected", "http://gpu-box:8000/v1", false, "", "plain http"},
		{"remote http allowed", "http://gpu-box:8000/v1", true, "http://gpu-box:8000/v1/", ""},
		{"missing", "", false, "", "is missing"},
		{"no scheme", "api.example.com/v1", false, "", "must start with https://"},
		{"query", "https://api.example.com/v1?key=abc", false, "", "must not carry"},
		{"user info", "https://user:pw@api.example.com/", false, "", "must not carry"},
		{"no host", "https:///v1", false, "", "has no host"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Endpoint(tc.raw, "/endpoint", tc.allowInsecure, "p")
			if tc.wantErr != "" {
				issue := issueOf(t, err)
				assert.Equal(t, "/endpoint", issue.Path)
				assert.Contains(t, issue.Diagnostics, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, u.String())
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for _, host := range []string{"localhost", "LOCALHOST.", "api.localhost", "127.0.0.1", "127.3.2.1", "::1", "[::1]"} {
		assert.True(t, IsLoopback(host), host)
	}
	for _, host := range []string{"example.com", "10.0.0.1", "192.168.1.5", "localhost.example.com", "0.0.0.0", ""} {
		assert.False(t, IsLoopback(host), host)
	}
}

func TestDeclare(t *testing.T) {
	parse := func(raw string) *url.URL {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		return u
	}
	thirty := 30

	local := DataUse{Region: "eu", BAA: true}.Declare(parse("http://127.0.0.1:11434/v1/"))
	assert.False(t, local.Egress)
	assert.Empty(t, local.Hosts)
	assert.Empty(t, local.Region, "region is empty when nothing leaves the machine")
	assert.Equal(t, -1, local.RetentionDays)

	remote := DataUse{Region: "us-east-1", BAA: true, RetentionDays: &thirty}.Declare(
		parse("https://fhir.example.org/r4/"), parse("http://localhost/x"), parse("https://auth.example.org/token"), parse("https://fhir.example.org:8443/"))
	assert.True(t, remote.Egress)
	assert.Equal(t, []string{"fhir.example.org", "auth.example.org"}, remote.Hosts)
	assert.Equal(t, "us-east-1", remote.Region)
	assert.True(t, remote.BAA)
	assert.Equal(t, 30, remote.RetentionDays)
}

func TestDataUseValidate(t *testing.T) {
	bad := -2
	err := DataUse{RetentionDays: &bad}.Validate("/data_use", "p")
	assert.Equal(t, "/data_use/retention_days", issueOf(t, err).Path)
	assert.NoError(t, DataUse{}.Validate("/data_use", "p"))
}

func TestSecret(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	require.NoError(t, os.WriteFile(keyFile, []byte("  sk-file-value\n"), 0o600))
	emptyFile := filepath.Join(dir, "empty")
	require.NoError(t, os.WriteFile(emptyFile, nil, 0o600))

	value, err := Secret{Value: "sk-inline"}.Read("p")
	require.NoError(t, err)
	assert.Equal(t, "sk-inline", value)

	value, err = Secret{File: keyFile}.Read("p")
	require.NoError(t, err)
	assert.Equal(t, "sk-file-value", value)

	value, err = Secret{}.Read("p")
	require.NoError(t, err)
	assert.Empty(t, value)

	_, err = Secret{Value: "sk-inline", File: keyFile, ValuePath: "/api_key", FilePath: "/api_key_file"}.Read("p")
	assert.Equal(t, "/api_key_file", issueOf(t, err).Path)
	assert.NotContains(t, err.Error(), "sk-inline")

	_, err = Secret{File: emptyFile, FilePath: "/api_key_file"}.Read("p")
	assert.Contains(t, err.Error(), "is empty")

	_, err = Secret{File: filepath.Join(dir, "missing"), FilePath: "/api_key_file"}.Read("p")
	assert.Equal(t, "/api_key_file", issueOf(t, err).Path)
}
