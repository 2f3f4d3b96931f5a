package obligation

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

func readTestdata(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", path))
	require.NoError(t, err)
	return b
}

func testdataFiles(t testing.TB, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", pattern))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// decisionFor evaluates the shipped policies for a request to a chat
// provider without a BAA, or with one when baa is true.
func egressObligations(t testing.TB, action string) policy.Obligations {
	t.Helper()
	e, err := policy.New(context.Background(), policy.Config{AllowedRegions: []string{"us-east-1"}}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	kind := sdk.KindLLM
	if action == "analyze" {
		kind = sdk.KindImaging
	}
	d, err := e.Decide(context.Background(), &policy.Input{
		Subject:  policy.Subject{ID: "Practitioner/f001", Roles: []string{"clinician"}, Tenant: "north", Scopes: []string{"user/*.cruds"}},
		Action:   action,
		Resource: policy.Resource{Type: "Bundle", Tenant: "north"},
		Provider: &policy.Provider{Kind: kind, Name: "cloud", Version: "1.0.0", DataUse: sdk.DataUse{Egress: true, Region: "us-east-1"}},
	})
	require.NoError(t, err)
	require.True(t, d.Allow, "%v", d.Reasons)
	return d.Obligations
}

// decodeNumbers decodes JSON with numbers as json.Number.
func decodeNumbers(t testing.TB, b []byte) any {
	t.Helper()
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	require.NoError(t, d.Decode(&v))
	return v
}

// tokens returns the JSON token stream of b: keys and values in order, with
// numbers as written.
func tokens(t testing.TB, b []byte) []any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var out []any
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, tok)
	}
}
