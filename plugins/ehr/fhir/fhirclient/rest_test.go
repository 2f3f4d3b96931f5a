package fhirclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/plugins/internal/fhirtest"
	"github.com/healthhub/healthhub/sdk"
)

var ctx = context.Background()

func TestReadExamplePatient(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	patient := readTestdata(t, "fhir-r4-examples", "Patient-example.json")

	stored, err := c.Update(ctx, patient, "")
	require.NoError(t, err)
	assert.Equal(t, "example", field(t, stored, "id"))

	got, err := c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	names := field(t, got, "name").([]any)
	assert.Equal(t, "Chalmers", names[0].(map[string]any)["family"])
	assert.Equal(t, "1", field(t, got, "meta").(map[string]any)["versionId"])
}

func TestReadMissingMapsOperationOutcome(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	_, err := c.Read(ctx, "Patient", "nobody")
	assert.ErrorIs(t, err, sdk.ErrNotFound)
	issues := issuesOf(t, err)
	require.Len(t, issues, 2, "the status issue, then the server's issue")
	assert.Contains(t, issues[0].Diagnostics, "HTTP 404")
	assert.Equal(t, sdk.CodeNotFound, issues[1].Code)
	assert.Equal(t, "Resource Patient/nobody is not known", issues[1].Diagnostics)
	assert.Equal(t, sdk.SourceUpstream, issues[1].Source)
}

func TestOperationOutcomeExampleBody(t *testing.T) {
	server := startServer(t)
	server.Fail("/fhir/Patient/example", fhirtest.Failure{Status: http.StatusBadRequest,
		Header: http.Header{"Content-Type": {"application/fhir+json"}},
		Body:   string(readTestdata(t, "fhir-r4-examples", "OperationOutcome-validationfail.json"))})
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	_, err := c.Read(ctx, "Patient", "example")
	issues := issuesOf(t, err)
	require.Len(t, issues, 2)
	assert.Equal(t, sdk.CodeStructure, issues[1].Code)
	assert.Equal(t, sdk.SeverityError, issues[1].Severity)
	assert.Equal(t, "Patient.identifier", issues[1].Expression)
	assert.Equal(t, `Error parsing resource XML (Unknown Content "label"`, issues[1].Diagnostics)
	assert.Contains(t, issues[0].Diagnostics, `Unknown Content "label"`)
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}

func TestReadRejectsBadReference(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	for _, tc := range []struct{ resourceType, id string }{
		{"patient", "1"}, {"Patient", "../metadata"}, {"Patient", ""}, {"Patient", strings.Repeat("a", 65)},
	} {
		_, err := c.Read(ctx, tc.resourceType, tc.id)
		assert.ErrorIs(t, err, sdk.ErrInvalid, "%s/%s", tc.resourceType, tc.id)
	}
	assert.Empty(t, server.Requests())
}

func TestReadRetriesThrottled(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	_, err := c.Update(ctx, readTestdata(t, "fhir-r4-examples", "Patient-example.json"), "")
	require.NoError(t, err)
	server.Fail("/fhir/Patient/example", fhirtest.Failure{Status: http.StatusTooManyRequests, Header: http.Header{"Retry-After": {"1"}}})
	before := server.Calls("/fhir/Patient/example")

	_, err = c.Read(ctx, "Patient", "example")
	require.NoError(t, err)
	assert.Equal(t, 2, server.Calls("/fhir/Patient/example")-before, "the 429, then the retry")
}

// loadSynthea submits the Synthea transaction Bundle and returns the id the
// server gave the patient.
func loadSynthea(t *testing.T, c *Client) string {
	t.Helper()
	response, err := c.Transaction(ctx, readTestdata(t, "synthea-r4", "Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json"))
	require.NoError(t, err)

	var bundle struct {
		Type  string `json:"type"`
		Entry []struct {
			Response struct {
				Status   string `json:"status"`
				Location string `json:"location"`
			} `json:"response"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(response, &bundle))
	require.Equal(t, "transaction-response", bundle.Type)
	require.Len(t, bundle.Entry, 238)
	for _, entry := range bundle.Entry {
		require.Equal(t, "201 Created", entry.Response.Status)
	}
	location := bundle.Entry[0].Response.Location
	require.True(t, strings.HasPrefix(location, "Patient/"), location)
	return strings.Split(location, "/")[1]
}

func TestTransactionAndPagedSearch(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	patientID := loadSynthea(t, c)
	assert.Equal(t, 30, server.Count("Observation"))

	req := sdk.SearchRequest{ResourceType: "Observation", Params: url.Values{"patient": {patientID}, "_count": {"7"}}}
	var all []json.RawMessage
	pages := 0
	for {
		page, err := c.Search(ctx, req)
		require.NoError(t, err)
		pages++
		assert.Equal(t, 30, page.Total)
		all = append(all, page.Resources...)
		if page.Next == "" {
			break
		}
		require.Less(t, pages, 10, "paging does not end")
		req = sdk.SearchRequest{PageToken: page.Next}
	}
	assert.Equal(t, 5, pages)
	require.Len(t, all, 30)

	seen := map[string]bool{}
	for _, resource := range all {
		assert.Equal(t, "Observation", field(t, resource, "resourceType"))
		subject := field(t, resource, "subject").(map[string]any)["reference"]
		assert.Equal(t, "Patient/"+patientID, subject, "urn:uuid references were rewritten by the server")
		seen[field(t, resource, "id").(string)] = true
	}
	assert.Len(t, seen, 30, "no resource appears on two pages")
}

func TestSearchPageSizeAndEmpty(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL(), PageSize: 25})

	page, err := c.Search(ctx, sdk.SearchRequest{ResourceType: "Condition", Params: url.Values{"patient": {"none"}}})
	require.NoError(t, err)
	assert.Equal(t, 0, page.Total)
	assert.Empty(t, page.Resources)
	assert.Empty(t, page.Next)
	require.NotEmpty(t, server.Requests())
	assert.Contains(t, server.Requests()[0], "_count=25")
}

func TestSearchUnknownParameter(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	_, err := c.Search(ctx, sdk.SearchRequest{ResourceType: "Patient", Params: url.Values{"shoe-size": {"9"}}})
	assert.ErrorIs(t, err, sdk.ErrNotSupported)
	assert.ErrorContains(t, err, "unknown search parameter")
}

func TestPageTokenMustStayUnderBase(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	for _, token := range []string{
		"http://localhost:1/fhir/Patient?_offset=10",
		strings.Replace(server.BaseURL(), "/fhir", "/other", 1) + "/Patient",
		"not a url\x7f",
	} {
		_, err := c.Search(ctx, sdk.SearchRequest{PageToken: token})
		assert.ErrorIs(t, err, sdk.ErrInvalid, token)
	}
	assert.Empty(t, server.Requests())
}

func TestCreate(t *testing.T) {
	tests := []struct {
		name    string
		minimal bool
	}{
		{"representation", false},
		{"minimal response read back", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			server.MinimalCreate = tc.minimal
			c := openClient(t, Config{BaseURL: server.BaseURL()})

			created, err := c.Create(ctx, readTestdata(t, "fhir-r4-examples", "Observation-example.json"))
			require.NoError(t, err)
			id := field(t, created, "id").(string)
			assert.NotEqual(t, "example", id, "the server assigns the id")
			assert.Equal(t, "Observation", field(t, created, "resourceType"))
			assert.Equal(t, 1, server.Count("Observation"))
			if tc.minimal {
				assert.Contains(t, server.Requests(), "GET /fhir/Observation/"+id+"/_history/1")
			}
		})
	}
}

func TestUpdateIfMatch(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	patient := readTestdata(t, "fhir-r4-examples", "Patient-example.json")
	_, err := c.Update(ctx, patient, "")
	require.NoError(t, err)

	updated, err := c.Update(ctx, patient, "1")
	require.NoError(t, err)
	assert.Equal(t, "2", field(t, updated, "meta").(map[string]any)["versionId"])
	assert.Contains(t, server.Requests(), "PUT /fhir/Patient/example")

	_, err = c.Update(ctx, patient, `W/"1"`)
	assert.ErrorIs(t, err, sdk.ErrConflict)
	issues := issuesOf(t, err)
	assert.Contains(t, issues[0].Diagnostics, "HTTP 412")
	assert.Contains(t, issues[1].Diagnostics, "current version is 2")
}

func TestWriteRejectsBadResource(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	_, err := c.Update(ctx, json.RawMessage(`{"resourceType":"Patient"}`), "")
	assert.ErrorIs(t, err, sdk.ErrInvalid)
	assert.Equal(t, "/id", issuesOf(t, err)[0].Path)

	_, err = c.Create(ctx, json.RawMessage(`{"resourceType":"patient"}`))
	assert.Equal(t, "/resourceType", issuesOf(t, err)[0].Path)

	_, err = c.Create(ctx, json.RawMessage(`[1,2]`))
	assert.ErrorIs(t, err, sdk.ErrInvalid)

	_, err = c.Transaction(ctx, readTestdata(t, "fhir-r4-examples", "Patient-example.json"))
	assert.Equal(t, "/resourceType", issuesOf(t, err)[0].Path)
	assert.Empty(t, server.Requests())
}

func TestWritesNotReplayed(t *testing.T) {
	bundle := readTestdata(t, "synthea-r4", "Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	observation := readTestdata(t, "fhir-r4-examples", "Observation-example.json")
	tests := []struct {
		name    string
		path    string
		failure fhirtest.Failure
		call    func(c *Client) error
	}{
		{"transaction 503", "/fhir", fhirtest.Failure{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}},
			func(c *Client) error { _, err := c.Transaction(ctx, bundle); return err }},
		{"transaction reset", "/fhir", fhirtest.Failure{Reset: true},
			func(c *Client) error { _, err := c.Transaction(ctx, bundle); return err }},
		{"create reset", "/fhir/Observation", fhirtest.Failure{Reset: true},
			func(c *Client) error { _, err := c.Create(ctx, observation); return err }},
		{"update without If-Match 503", "/fhir/Observation/example", fhirtest.Failure{Status: http.StatusServiceUnavailable},
			func(c *Client) error { _, err := c.Update(ctx, observation, ""); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := startServer(t)
			server.Fail(tc.path, tc.failure)
			retries := 3
			c := openClient(t, Config{BaseURL: server.BaseURL(), HTTP: httpSettings(&retries)})

			err := tc.call(c)
			assert.ErrorIs(t, err, sdk.ErrUnavailable)
			assert.Equal(t, 1, server.Calls(tc.path), "the write reached the server more than once")
			assert.Zero(t, server.Count("Patient"))
		})
	}
}

func TestUpdateWithIfMatchRetried(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	patient := readTestdata(t, "fhir-r4-examples", "Patient-example.json")
	_, err := c.Update(ctx, patient, "")
	require.NoError(t, err)
	server.Fail("/fhir/Patient/example", fhirtest.Failure{Status: http.StatusServiceUnavailable, Header: http.Header{"Retry-After": {"0"}}})

	updated, err := c.Update(ctx, patient, "1")
	require.NoError(t, err)
	assert.Equal(t, "2", field(t, updated, "meta").(map[string]any)["versionId"])
	assert.Equal(t, 3, server.Calls("/fhir/Patient/example"), "first PUT, failed PUT, retried PUT")
}

func TestExampleTransactionRejectedWhole(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})

	_, err := c.Transaction(ctx, readTestdata(t, "fhir-r4-examples", "Bundle-bundle-transaction.json"))
	assert.ErrorIs(t, err, sdk.ErrNotSupported, "the test server has no conditional updates, so it rejects this bundle")
	issues := issuesOf(t, err)
	assert.Equal(t, sdk.CodeNotSupported, issues[1].Code)
	assert.Zero(t, server.Count("Patient"), "a rejected transaction stores nothing")
}

func TestCheckHealthReadsMetadata(t *testing.T) {
	server := startServer(t)
	c := openClient(t, Config{BaseURL: server.BaseURL()})
	require.NoError(t, c.CheckHealth(ctx))
	assert.Equal(t, 1, server.Calls("/fhir/metadata"))
}
