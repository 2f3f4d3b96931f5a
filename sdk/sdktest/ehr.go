package sdktest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// EHRCase is a resource the EHR connector under test may create. The
// suite creates several copies, so the backend should be a test system.
type EHRCase struct {
	// Resource is a resource without id, such as a Patient, that the
	// system accepts.
	Resource json.RawMessage
}

// LargeResourceSize is the size of the oversized resource the EHR suite
// creates, in bytes: 16 MiB, or 1 MiB under go test -short.
func LargeResourceSize() int {
	if testing.Short() {
		return 1 << 20
	}
	return 16 << 20
}

// EHR runs the conformance suite for sdk.EHRConnector, and for
// sdk.TransactionRunner when the connector implements it. The connector
// must support FHIR versioning (meta.versionId and If-Match) and the _id
// and _count search parameters.
func EHR(t *testing.T, newConnector func(t *testing.T) sdk.EHRConnector, tc EHRCase) {
	resourceType := resourceTypeOf(t, tc.Resource)
	tests := []struct {
		name string
		run  func(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string)
	}{
		{"CreateRead", ehrCreateRead},
		{"ReadNotFound", ehrReadNotFound},
		{"InvalidResource", ehrInvalidResource},
		{"UpdateVersionCheck", ehrUpdateVersionCheck},
		{"SearchPaging", ehrSearchPaging},
		{"LargeResource", ehrLargeResource},
		{"ConcurrentCalls", ehrConcurrent},
		{"CancelledContext", ehrCancelled},
		{"Transaction", ehrTransaction},
	}
	for _, test := range tests {
		t.Run(test.name, func(t *testing.T) {
			c := newConnector(t)
			require.NotNil(t, c, "the factory returned a nil connector")
			test.run(t, c, tc, resourceType)
		})
	}
}

func resourceTypeOf(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var head struct {
		ResourceType string `json:"resourceType"`
	}
	require.NoError(t, json.Unmarshal(raw, &head), "the case resource is not JSON")
	require.NotEmpty(t, head.ResourceType, "the case resource has no resourceType")
	return head.ResourceType
}

// stored is the part of a returned resource that the suite checks.
type stored struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Meta         struct {
		VersionID string `json:"versionId"`
	} `json:"meta"`
}

func decodeStored(t *testing.T, raw json.RawMessage, resourceType string) stored {
	t.Helper()
	var s stored
	require.NoError(t, json.Unmarshal(raw, &s), "the returned resource is not JSON")
	assert.Equal(t, resourceType, s.ResourceType, "resourceType")
	assert.NotEmpty(t, s.ID, "id of the stored resource")
	return s
}

func create(t *testing.T, c sdk.EHRConnector, resource json.RawMessage, resourceType string) stored {
	t.Helper()
	out, err := c.Create(context.Background(), resource)
	require.NoError(t, err, "create")
	return decodeStored(t, out, resourceType)
}

func ehrCreateRead(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	created := create(t, c, tc.Resource, resourceType)
	assert.NotEmpty(t, created.Meta.VersionID, "meta.versionId of the created resource")

	read, err := c.Read(context.Background(), resourceType, created.ID)
	require.NoError(t, err)
	got := decodeStored(t, read, resourceType)
	assert.Equal(t, created.ID, got.ID)
	assert.Equal(t, created.Meta.VersionID, got.Meta.VersionID)
}

func ehrReadNotFound(t *testing.T, c sdk.EHRConnector, _ EHRCase, resourceType string) {
	_, err := c.Read(context.Background(), resourceType, "sdktest-missing-"+strings.TrimSuffix(strings.TrimPrefix(uniquePrefix(t), "sdktest-"), "/"))
	assert.ErrorIs(t, err, sdk.ErrNotFound)
}

func ehrInvalidResource(t *testing.T, c sdk.EHRConnector, _ EHRCase, _ string) {
	for name, raw := range map[string]string{
		"not JSON":        `{"resourceType": `,
		"no resourceType": `{"name": [{"family": "Nobody"}]}`,
		"not an object":   `["Patient"]`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := c.Create(context.Background(), json.RawMessage(raw))
			assert.ErrorIs(t, err, sdk.ErrInvalid)
		})
	}
}

// withField returns resource with one top-level field set.
func withField(t *testing.T, resource json.RawMessage, key string, value any) json.RawMessage {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(resource, &m))
	m[key] = value
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

func ehrUpdateVersionCheck(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	created := create(t, c, tc.Resource, resourceType)
	update := withField(t, tc.Resource, "id", created.ID)

	_, err := c.Update(context.Background(), update, `W/"sdktest-stale-version"`)
	assert.ErrorIs(t, err, sdk.ErrConflict, "update with a stale If-Match")

	out, err := c.Update(context.Background(), update, fmt.Sprintf(`W/"%s"`, created.Meta.VersionID))
	require.NoError(t, err, "update with the current version")
	updated := decodeStored(t, out, resourceType)
	assert.Equal(t, created.ID, updated.ID)
	assert.NotEqual(t, created.Meta.VersionID, updated.Meta.VersionID, "an update makes a new version")
}

func ehrSearchPaging(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	var ids []string
	for range 5 {
		ids = append(ids, create(t, c, tc.Resource, resourceType).ID)
	}
	req := sdk.SearchRequest{ResourceType: resourceType, Params: url.Values{"_id": {strings.Join(ids, ",")}, "_count": {"2"}}}
	var found []string
	for pages := 1; ; pages++ {
		require.LessOrEqual(t, pages, 10, "searching 5 resources 2 at a time never ended")
		page, err := c.Search(context.Background(), req)
		require.NoError(t, err, "search page %d", pages)
		assert.LessOrEqual(t, len(page.Resources), 2, "page %d exceeds _count", pages)
		for _, raw := range page.Resources {
			found = append(found, decodeStored(t, raw, resourceType).ID)
		}
		if page.Total >= 0 {
			assert.Equal(t, 5, page.Total, "total")
		}
		if page.Next == "" {
			break
		}
		req = sdk.SearchRequest{PageToken: page.Next}
	}
	slices.Sort(ids)
	slices.Sort(found)
	assert.Equal(t, ids, found, "the pages hold each created resource once")
}

func ehrLargeResource(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	big := strings.Repeat("x", LargeResourceSize())
	resource := withField(t, tc.Resource, "text", map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml">` + big + `</div>`})
	_, err := c.Create(context.Background(), resource)
	assert.True(t, acceptedLargeError(err), "a %d-byte resource returned %v; want it stored, ErrInvalid or ErrTooLarge", len(resource), err)
}

func ehrConcurrent(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() {
			out, err := c.Create(context.Background(), tc.Resource)
			if err == nil {
				var s stored
				if err = json.Unmarshal(out, &s); err == nil {
					_, err = c.Read(context.Background(), resourceType, s.ID)
				}
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		assert.NoError(t, err, "call %d", i)
	}
}

func ehrCancelled(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Create(ctx, tc.Resource)
	assert.True(t, isCancellation(err), "Create with a cancelled context returned %v", err)
	_, err = c.Search(ctx, sdk.SearchRequest{ResourceType: resourceType})
	assert.True(t, isCancellation(err), "Search with a cancelled context returned %v", err)
}

func ehrTransaction(t *testing.T, c sdk.EHRConnector, tc EHRCase, resourceType string) {
	runner, ok := c.(sdk.TransactionRunner)
	if !ok {
		t.Skip("the connector does not implement sdk.TransactionRunner")
	}
	var resource any
	require.NoError(t, json.Unmarshal(tc.Resource, &resource))
	bundle, err := json.Marshal(map[string]any{
		"resourceType": "Bundle",
		"type":         "transaction",
		"entry": []any{map[string]any{
			"resource": resource,
			"request":  map[string]any{"method": "POST", "url": resourceType},
		}},
	})
	require.NoError(t, err)
	out, err := runner.Transaction(context.Background(), bundle)
	require.NoError(t, err)
	var response struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []any  `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(out, &response))
	assert.Equal(t, "Bundle", response.ResourceType)
	assert.Equal(t, "transaction-response", response.Type)
	assert.Len(t, response.Entry, 1, "one response entry per request entry")

	_, err = runner.Transaction(context.Background(), json.RawMessage(`{"resourceType":"Patient"}`))
	assert.ErrorIs(t, err, sdk.ErrInvalid, "a transaction that is not a Bundle")
}
