package schema

import (
	"context"
	"encoding/json"
	"os"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// brokenSynthea returns a Synthea bundle with errors planted in entries,
// in a contained resource and in a response outcome.
func brokenSynthea(t *testing.T) []byte {
	data, err := os.ReadFile("../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	require.NoError(t, err)
	var bundle map[string]any
	require.NoError(t, json.Unmarshal(data, &bundle))
	entries := bundle["entry"].([]any)
	require.Greater(t, len(entries), 40)

	resource := func(i int) map[string]any { return entries[i].(map[string]any)["resource"].(map[string]any) }
	resource(0)["birthDate"] = "1974-13-01"
	resource(31)["status"] = "bogus"
	resource(9)["resourceType"] = "Nope"
	resource(17)["extra"] = true
	delete(resource(30), "resourceType")
	entries[33].(map[string]any)["resource"] = "not an object"
	require.Contains(t, resource(34), "contained")
	resource(34)["contained"].([]any)[0].(map[string]any)["bogusElement"] = 1
	entries[40].(map[string]any)["response"] = map[string]any{
		"status":  "201 Created",
		"outcome": map[string]any{"resourceType": "OperationOutcome", "issue": []any{map[string]any{"severity": "bad", "code": "invalid"}}},
	}

	out, err := json.Marshal(bundle)
	require.NoError(t, err)
	return out
}

func TestBundleConcurrentMatchesSequential(t *testing.T) {
	data := brokenSynthea(t)
	for _, strict := range []bool{false, true} {
		sequential, err := New(context.Background(), Config{Strict: strict, Parallelism: 1}, nil)
		require.NoError(t, err)
		concurrent, err := New(context.Background(), Config{Strict: strict, Parallelism: 4}, nil)
		require.NoError(t, err)

		want := sequential.Validate(context.Background(), "Bundle", data)
		got := concurrent.Validate(context.Background(), "Bundle", data)

		require.Error(t, want)
		assert.Equal(t, want, got, "strict=%v", strict)
		issues := want.(*sdk.Outcome).Issues
		paths := make([]string, len(issues))
		for i, issue := range issues {
			paths[i] = issue.Path
		}
		assert.Contains(t, paths, "/entry/0/resource/birthDate")
		assert.Contains(t, paths, "/entry/31/resource/status")
		assert.Contains(t, paths, "/entry/34/resource/contained/0/bogusElement")
		assert.Contains(t, paths, "/entry/9/resource/resourceType")
		assert.Contains(t, paths, "/entry/17/resource/extra")
		assert.Contains(t, paths, "/entry/30/resource")
		assert.Contains(t, paths, "/entry/33/resource")
		assert.Contains(t, paths, "/entry/40/response/outcome/issue/0/severity")
	}
}

func TestBundleConcurrentHonoursCanceledContext(t *testing.T) {
	v, err := New(context.Background(), Config{Parallelism: 2}, nil)
	require.NoError(t, err)
	data, err := os.ReadFile(syntheaBob)
	require.NoError(t, err)
	doc, err := Parse(data)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, v.ValidateDocument(ctx, "Bundle", doc), context.Canceled)
}
