package sdktest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// memoryEHR is the reference EHR connector of these tests: an in-memory
// versioned resource store with _id and _count search and transactions.
type memoryEHR struct {
	mu        sync.Mutex
	next      int
	resources map[string]map[string]any // "Type/id" -> resource
}

func newMemoryEHR() *memoryEHR { return &memoryEHR{resources: map[string]map[string]any{}} }

const maxResourceBytes = 64 << 20

func parseResource(raw json.RawMessage) (map[string]any, string, error) {
	if len(raw) > maxResourceBytes {
		return nil, "", sdk.Errorf(sdk.CodeTooLong, "resource is larger than %d bytes", maxResourceBytes)
	}
	var resource map[string]any
	if err := json.Unmarshal(raw, &resource); err != nil {
		return nil, "", sdk.Invalidf("", "resource is not a JSON object: %v", err)
	}
	resourceType, _ := resource["resourceType"].(string)
	if resourceType == "" {
		return nil, "", sdk.Invalidf("/resourceType", "resourceType is missing")
	}
	return resource, resourceType, nil
}

func (e *memoryEHR) Read(ctx context.Context, resourceType, id string) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	resource, ok := e.resources[resourceType+"/"+id]
	if !ok {
		return nil, sdk.NotFoundf("%s/%s not found", resourceType, id)
	}
	return json.Marshal(resource)
}

func (e *memoryEHR) Create(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resource, resourceType, err := parseResource(raw)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.next++
	resource["id"] = strconv.Itoa(e.next)
	resource["meta"] = map[string]any{"versionId": "1"}
	e.resources[resourceType+"/"+strconv.Itoa(e.next)] = resource
	return json.Marshal(resource)
}

func (e *memoryEHR) Update(ctx context.Context, raw json.RawMessage, ifMatch string) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	resource, resourceType, err := parseResource(raw)
	if err != nil {
		return nil, err
	}
	id, _ := resource["id"].(string)
	e.mu.Lock()
	defer e.mu.Unlock()
	current, ok := e.resources[resourceType+"/"+id]
	if !ok {
		return nil, sdk.NotFoundf("%s/%s not found", resourceType, id)
	}
	version, _ := current["meta"].(map[string]any)["versionId"].(string)
	if ifMatch != "" && ifMatch != fmt.Sprintf(`W/"%s"`, version) {
		return nil, sdk.Errorf(sdk.CodeConflict, "%s/%s is at version %s, not %s", resourceType, id, version, ifMatch)
	}
	n, _ := strconv.Atoi(version)
	resource["meta"] = map[string]any{"versionId": strconv.Itoa(n + 1)}
	e.resources[resourceType+"/"+id] = resource
	return json.Marshal(resource)
}

func (e *memoryEHR) Search(ctx context.Context, req sdk.SearchRequest) (*sdk.SearchPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req.PageToken != "" {
		var token struct {
			Request sdk.SearchRequest
			Offset  int
		}
		if err := json.Unmarshal([]byte(req.PageToken), &token); err != nil {
			return nil, sdk.Invalidf("", "page token is invalid")
		}
		return e.searchFrom(token.Request, token.Offset)
	}
	return e.searchFrom(req, 0)
}

func (e *memoryEHR) searchFrom(req sdk.SearchRequest, offset int) (*sdk.SearchPage, error) {
	count := 50
	if c := req.Params.Get("_count"); c != "" {
		count, _ = strconv.Atoi(c)
	}
	var ids []string
	if v := req.Params.Get("_id"); v != "" {
		ids = strings.Split(v, ",")
	}
	e.mu.Lock()
	var keys []string
	for key := range e.resources {
		id := strings.TrimPrefix(key, req.ResourceType+"/")
		if strings.HasPrefix(key, req.ResourceType+"/") && (ids == nil || slices.Contains(ids, id)) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	page := &sdk.SearchPage{Total: len(keys)}
	for _, key := range keys[min(offset, len(keys)):min(offset+count, len(keys))] {
		raw, _ := json.Marshal(e.resources[key])
		page.Resources = append(page.Resources, raw)
	}
	e.mu.Unlock()
	if offset+count < len(keys) {
		token, _ := json.Marshal(map[string]any{"Request": req, "Offset": offset + count})
		page.Next = string(token)
	}
	return page, nil
}

func (e *memoryEHR) Transaction(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &bundle); err != nil || bundle.ResourceType != "Bundle" || bundle.Type != "transaction" {
		return nil, sdk.Invalidf("", "transaction: send a Bundle of type transaction")
	}
	var entries []any
	for _, entry := range bundle.Entry {
		created, err := e.Create(ctx, entry.Resource)
		if err != nil {
			return nil, err
		}
		entries = append(entries, map[string]any{"resource": json.RawMessage(created), "response": map[string]any{"status": "201 Created"}})
	}
	return json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
}

func ehrCase() sdktest.EHRCase {
	return sdktest.EHRCase{Resource: json.RawMessage(`{"resourceType":"Patient","name":[{"family":"Testpatient","given":["Canary"]}],"birthDate":"1970-01-01"}`)}
}

func TestEHRSuiteInProcess(t *testing.T) {
	sdktest.EHR(t, func(*testing.T) sdk.EHRConnector { return newMemoryEHR() }, ehrCase())
}

func TestEHRSuiteLoopback(t *testing.T) {
	sdktest.EHR(t, func(t *testing.T) sdk.EHRConnector {
		remote := sdktest.Loopback(t, sdk.Provider{
			Info: sdk.Info{Name: "memory-ehr", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindEHR}, Capabilities: []string{sdk.CapabilityTransaction}},
			EHR:  newMemoryEHR(),
		})
		return remote.EHR
	}, ehrCase())
}
