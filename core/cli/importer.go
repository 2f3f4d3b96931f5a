package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// importUnit is one request of an import: a Bundle to post and the
// resources it carries.
type importUnit struct {
	file string
	// firstEntry is the entry index (Bundle) or line number (NDJSON) of
	// the unit's first resource in its file.
	firstEntry int
	bundle     []byte
	types      []string
}

// importFailure is one resource that did not import.
type importFailure struct {
	file   string
	entry  string
	status string
	reason string
}

// importSummary counts what an import did.
type importSummary struct {
	created  map[string]int
	existing map[string]int
	failures []importFailure
}

func newImportSummary() *importSummary {
	return &importSummary{created: map[string]int{}, existing: map[string]int{}}
}

// readImportFile turns a file into import units: a transaction or batch
// Bundle as it is, a single resource as a one-entry batch, and NDJSON
// (one resource per line, files ending in .ndjson) as batches of
// batchSize resources.
func readImportFile(path string, batchSize int, summary *importSummary) ([]importUnit, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	name := filepath.Base(path)
	if strings.HasSuffix(strings.ToLower(path), ".ndjson") {
		return ndjsonUnits(name, data, batchSize, summary), nil
	}

	var doc struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
			} `json:"resource"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("import %s: not a JSON resource: %w (name NDJSON files *.ndjson)", name, err)
	}
	switch {
	case doc.ResourceType == "Bundle" && (doc.Type == "transaction" || doc.Type == "batch"):
		types := make([]string, len(doc.Entry))
		for i, entry := range doc.Entry {
			types[i] = entry.Resource.ResourceType
		}
		return []importUnit{{file: name, bundle: data, types: types}}, nil
	case doc.ResourceType == "Bundle":
		return nil, fmt.Errorf("import %s: Bundle of type %q cannot be imported: use a transaction or batch Bundle", name, doc.Type)
	case doc.ResourceType == "":
		return nil, fmt.Errorf("import %s: no resourceType", name)
	}
	bundle, err := batchBundle([]json.RawMessage{data})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", name, err)
	}
	return []importUnit{{file: name, bundle: bundle, types: []string{doc.ResourceType}}}, nil
}

func ndjsonUnits(name string, data []byte, batchSize int, summary *importSummary) []importUnit {
	var units []importUnit
	var pending []json.RawMessage
	var types []string
	first := 0
	flush := func() {
		if len(pending) == 0 {
			return
		}
		bundle, err := batchBundle(pending)
		if err != nil {
			summary.failures = append(summary.failures, importFailure{file: name, entry: fmt.Sprintf("lines %d-%d", first, first+len(pending)-1), reason: err.Error()})
		} else {
			units = append(units, importUnit{file: name, firstEntry: first, bundle: bundle, types: types})
		}
		pending, types = nil, nil
	}

	scanner := bufio.NewScanner(bytes.NewReader(data))
	scanner.Buffer(make([]byte, 1<<20), 64<<20)
	for line := 1; scanner.Scan(); line++ {
		text := bytes.TrimSpace(scanner.Bytes())
		if len(text) == 0 {
			continue
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if err := json.Unmarshal(text, &head); err != nil || head.ResourceType == "" {
			summary.failures = append(summary.failures, importFailure{file: name, entry: fmt.Sprintf("line %d", line), reason: "not a JSON resource with a resourceType"})
			continue
		}
		if len(pending) == 0 {
			first = line
		}
		pending = append(pending, slices.Clone(text))
		types = append(types, head.ResourceType)
		if len(pending) == batchSize {
			flush()
		}
	}
	flush()
	return units
}

// batchBundle wraps resources in a batch Bundle. A resource with an id is
// written with PUT to keep its id, so that references between the
// resources stay valid. A resource without an id is created with POST.
func batchBundle(resources []json.RawMessage) ([]byte, error) {
	type request struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	}
	type entry struct {
		Resource json.RawMessage `json:"resource"`
		Request  request         `json:"request"`
	}
	entries := make([]entry, 0, len(resources))
	for _, resource := range resources {
		var head struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		if err := json.Unmarshal(resource, &head); err != nil {
			return nil, err
		}
		req := request{Method: http.MethodPost, URL: head.ResourceType}
		if head.ID != "" {
			req = request{Method: http.MethodPut, URL: head.ResourceType + "/" + head.ID}
		}
		entries = append(entries, entry{Resource: resource, Request: req})
	}
	return json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": entries})
}

// importClient posts import units to a hub.
type importClient struct {
	client     *http.Client
	endpoint   string
	token      string
	maxRetries int
}

// post sends one unit and records its results. A 429 is retried after
// the Retry-After delay, because the hub rejected the request before
// processing it. Any other failure is recorded for every resource of the
// unit.
func (c *importClient) post(ctx context.Context, unit importUnit, summary *importSummary) error {
	for attempt := 0; ; attempt++ {
		status, body, retryAfter, err := c.send(ctx, unit.bundle)
		if err != nil {
			return err
		}
		if status == http.StatusTooManyRequests && attempt < c.maxRetries {
			select {
			case <-time.After(retryAfter):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		recordResponse(unit, status, body, summary)
		return nil
	}
}

func (c *importClient) send(ctx context.Context, bundle []byte) (int, []byte, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(bundle))
	if err != nil {
		return 0, nil, 0, fmt.Errorf("import: %w", err)
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("import: post to %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("import: read response: %w", err)
	}
	retryAfter := time.Second
	if seconds, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && seconds > 0 {
		retryAfter = time.Duration(seconds) * time.Second
	}
	return resp.StatusCode, body, retryAfter, nil
}

type responseBundle struct {
	ResourceType string `json:"resourceType"`
	Entry        []struct {
		Response struct {
			Status   string          `json:"status"`
			Location string          `json:"location"`
			Outcome  json.RawMessage `json:"outcome"`
		} `json:"response"`
	} `json:"entry"`
}

func recordResponse(unit importUnit, status int, body []byte, summary *importSummary) {
	var response responseBundle
	if status/100 != 2 || json.Unmarshal(body, &response) != nil || response.ResourceType != "Bundle" {
		reason := outcomeText(body)
		if reason == "" {
			reason = strings.TrimSpace(string(body))
		}
		summary.failures = append(summary.failures, importFailure{
			file: unit.file, entry: unitEntries(unit), status: strconv.Itoa(status), reason: reason,
		})
		return
	}
	for i, entry := range response.Entry {
		resourceType := typeOf(unit, i, entry.Response.Location)
		code, _, _ := strings.Cut(entry.Response.Status, " ")
		switch {
		case code == "201":
			summary.created[resourceType]++
		case strings.HasPrefix(code, "2"):
			summary.existing[resourceType]++
		default:
			summary.failures = append(summary.failures, importFailure{
				file: unit.file, entry: entryName(unit, i), status: entry.Response.Status, reason: outcomeText(entry.Response.Outcome),
			})
		}
	}
}

func typeOf(unit importUnit, i int, location string) string {
	if i < len(unit.types) && unit.types[i] != "" {
		return unit.types[i]
	}
	resourceType, _, _ := strings.Cut(location, "/")
	return resourceType
}

func entryName(unit importUnit, i int) string {
	if strings.HasSuffix(strings.ToLower(unit.file), ".ndjson") {
		return fmt.Sprintf("resource %d of the batch from line %d", i+1, unit.firstEntry)
	}
	return fmt.Sprintf("entry %d", unit.firstEntry+i)
}

func unitEntries(unit importUnit) string {
	if len(unit.types) == 1 {
		return entryName(unit, 0)
	}
	return fmt.Sprintf("all %d entries", len(unit.types))
}

// outcomeText summarises an OperationOutcome as "code: expression:
// diagnostics" per issue, with the location (a JSON Pointer) where an
// issue has no expression, or returns "" when data is not one.
func outcomeText(data []byte) string {
	var outcome struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Code        string   `json:"code"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
			Location    []string `json:"location"`
		} `json:"issue"`
	}
	if len(data) == 0 || json.Unmarshal(data, &outcome) != nil || outcome.ResourceType != "OperationOutcome" {
		return ""
	}
	parts := make([]string, 0, len(outcome.Issue))
	for _, issue := range outcome.Issue {
		text := issue.Code + ": "
		switch {
		case len(issue.Expression) > 0:
			text += strings.Join(issue.Expression, ", ") + ": "
		case len(issue.Location) > 0:
			text += strings.Join(issue.Location, ", ") + ": "
		}
		parts = append(parts, text+issue.Diagnostics)
	}
	return strings.Join(parts, "; ")
}

// write prints the summary: totals, counts per resource type, and every
// failure with its reason.
func (s *importSummary) write(w io.Writer, files int) error {
	created, existing := total(s.created), total(s.existing)
	fmt.Fprintf(w, "imported %d file(s): %d created, %d already present or updated, %d failed\n", files, created, existing, len(s.failures))
	types := map[string]bool{}
	for resourceType := range s.created {
		types[resourceType] = true
	}
	for resourceType := range s.existing {
		types[resourceType] = true
	}
	names := make([]string, 0, len(types))
	for name := range types {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fmt.Fprintf(w, "  %-24s %6d created %6d present or updated\n", name, s.created[name], s.existing[name])
	}
	if len(s.failures) > 0 {
		fmt.Fprintln(w, "failures:")
	}
	for _, f := range s.failures {
		status := ""
		if f.status != "" {
			status = " (" + f.status + ")"
		}
		fmt.Fprintf(w, "  %s %s%s: %s\n", f.file, f.entry, status, f.reason)
	}
	return nil
}

func total(counts map[string]int) int {
	n := 0
	for _, count := range counts {
		n += count
	}
	return n
}

var errImportFailures = errors.New("some resources did not import")
