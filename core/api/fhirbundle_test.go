package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMarshalSearchsetBundle(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "http://hub.test/fhir/Observation?patient=p1&_count=2", nil)
	links := pageLinks("http://hub.test", r, "c2")
	data := marshalBundle("searchset", -1, links, []bundleEntry{
		{FullURL: "http://hub.test/fhir/Observation/o1", Resource: []byte(`{"resourceType":"Observation","id":"o1","valueQuantity":{"value":1.10}}`), SearchMode: "match"},
		{FullURL: "http://hub.test/fhir/Observation/o2", Resource: []byte(`{"resourceType":"Observation","id":"o2"}`), SearchMode: "match"},
	})
	require.True(t, json.Valid(data), string(data))
	assert.Contains(t, string(data), `"value":1.10`, "resources are copied byte for byte")

	var bundle struct {
		ResourceType string       `json:"resourceType"`
		Type         string       `json:"type"`
		Total        *int         `json:"total"`
		Link         []bundleLink `json:"link"`
		Entry        []struct {
			FullURL string `json:"fullUrl"`
			Search  struct{ Mode string }
			Res     json.RawMessage `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(data, &bundle))
	assert.Equal(t, "Bundle", bundle.ResourceType)
	assert.Equal(t, "searchset", bundle.Type)
	assert.Nil(t, bundle.Total)
	assert.Equal(t, []bundleLink{
		{Relation: "self", URL: "http://hub.test/fhir/Observation?patient=p1&_count=2"},
		{Relation: "next", URL: "http://hub.test/fhir/Observation?_count=2&_cursor=c2&patient=p1"},
	}, bundle.Link)
	require.Len(t, bundle.Entry, 2)
	assert.Equal(t, "match", bundle.Entry[0].Search.Mode)
	assert.Equal(t, "http://hub.test/fhir/Observation/o2", bundle.Entry[1].FullURL)
}

func TestMarshalHistoryBundle(t *testing.T) {
	modified := time.Date(2026, 12, 4, 21, 0, 0, 123_000_000, time.UTC)
	data := marshalBundle("history", 2, nil, []bundleEntry{
		{FullURL: "u", Request: &bundleRequest{Method: "DELETE", URL: "Patient/p1"}, Response: &bundleResponse{Status: "200 OK", Etag: `W/"2"`, LastModified: fhirInstant(modified)}},
		{FullURL: "u", Resource: []byte(`{"resourceType":"Patient","id":"p1"}`), Request: &bundleRequest{Method: "POST", URL: "Patient"}, Response: &bundleResponse{Status: "201 Created", Etag: `W/"1"`}},
	})
	require.True(t, json.Valid(data), string(data))
	assert.JSONEq(t, `{"resourceType":"Bundle","type":"history","total":2,"entry":[
		{"fullUrl":"u","request":{"method":"DELETE","url":"Patient/p1"},"response":{"status":"200 OK","etag":"W/\"2\"","lastModified":"2026-12-04T21:00:00.123Z"}},
		{"fullUrl":"u","resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"POST","url":"Patient"},"response":{"status":"201 Created","etag":"W/\"1\""}}]}`, string(data))
}

func TestBaseURL(t *testing.T) {
	s := &Server{}
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1:8080/fhir/Patient", nil)
	assert.Equal(t, "http://127.0.0.1:8080", s.baseURL(r))
	s.cfg.Server.BaseURL = "https://hub.example.org/"
	assert.Equal(t, "https://hub.example.org", s.baseURL(r))
	assert.Equal(t, "https://hub.example.org/fhir/Patient/a%2Fb", resourceURL(s.baseURL(r), "Patient", "a/b"))
}
