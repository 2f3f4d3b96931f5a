package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTransactionRewritesReferences(t *testing.T) {
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0","resource":{"resourceType":"Patient","name":[{"family":"Chalmers"}]},"request":{"method":"POST","url":"Patient"}},
		{"fullUrl":"urn:uuid:a4b8b4c6-1f3c-4d65-9a56-3b4e2f3a2f11","resource":{"resourceType":"Encounter","status":"finished","subject":{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"}},"request":{"method":"POST","url":"Encounter"}},
		{"resource":{"resourceType":"Observation","status":"final","subject":{"reference":"urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0"},"encounter":{"reference":"urn:uuid:a4b8b4c6-1f3c-4d65-9a56-3b4e2f3a2f11"},"valueQuantity":{"value":72.50}},"request":{"method":"PUT","url":"Observation/obs-1"}},
		{"request":{"method":"GET","url":"Observation/obs-1"}}
	]}`
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		resp, err := s.ProcessBundle(ctx, "acme", []byte(bundle))
		require.NoError(t, err)
		require.Len(t, resp.Entries, 4)
		assert.Equal(t, "201 Created", resp.Entries[0].Status)
		assert.Equal(t, "201 Created", resp.Entries[2].Status)
		assert.Equal(t, "Observation/obs-1/_history/1", resp.Entries[2].Location)
		assert.Equal(t, "200 OK", resp.Entries[3].Status)

		patientRef := resp.Entries[0].Location[:len(resp.Entries[0].Location)-len("/_history/1")]
		encounterRef := resp.Entries[1].Location[:len(resp.Entries[1].Location)-len("/_history/1")]
		obs := resp.Entries[3].Resource
		require.NotNil(t, obs)
		assert.Contains(t, string(obs.Body), `"subject":{"reference":"`+patientRef+`"}`)
		assert.Contains(t, string(obs.Body), `"encounter":{"reference":"`+encounterRef+`"}`)
		assert.Contains(t, string(obs.Body), `"value":72.50`)

		_, patientID := typeAndID(patientRef)
		page, err := s.Search(ctx, "acme", "Observation", url.Values{"patient": {patientID}})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 1, "the rewritten reference is indexed")

		rendered, err := json.Marshal(resp)
		require.NoError(t, err)
		var parsed struct {
			Type  string `json:"type"`
			Entry []struct {
				Response struct {
					Status string `json:"status"`
				} `json:"response"`
			} `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(rendered, &parsed))
		assert.Equal(t, "transaction-response", parsed.Type)
		assert.Equal(t, "201 Created", parsed.Entry[0].Response.Status)
	})
}

func TestTransactionIsAtomic(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, _, err := s.Update(ctx, "acme", "Patient", "p1", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
		require.NoError(t, err)

		bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
			{"resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}},
			{"resource":{"resourceType":"Patient","id":"p1","gender":"male"},"request":{"method":"PUT","url":"Patient/p1","ifMatch":"W/\"7\""}}
		]}`
		_, err = s.ProcessBundle(ctx, "acme", []byte(bundle))
		require.Error(t, err)
		assert.True(t, errors.Is(err, sdk.ErrConflict), "got %v", err)
		o := sdk.AsOutcome(err)
		assert.Equal(t, "/entry/1/request/ifMatch", o.Issues[0].Path)
		assert.Contains(t, o.Issues[0].Diagnostics, "entry 1:")
		assert.True(t, store.IfMatchFailed(o), "a failed ifMatch answers 412 like an If-Match header")

		page, err := s.Search(ctx, "acme", "Patient", url.Values{})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 1, "the POST of the failed transaction must not be stored")

		p1, err := s.Read(ctx, "acme", "Patient", "p1")
		require.NoError(t, err)
		assert.Equal(t, "1", p1.VersionID)
	})
}

func TestTransactionRejectsUnsupportedEntries(t *testing.T) {
	tests := []struct {
		name   string
		bundle string
		path   string
		is     error
	}{
		{
			name:   "hl7 example with conditional update",
			bundle: string(repoFile(t, "fhir-r4-examples/Bundle-bundle-transaction.json")),
			path:   "/entry/3/request/url",
			is:     sdk.ErrNotSupported,
		},
		{
			name:   "same resource twice",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"DELETE","url":"Patient/a"}},{"request":{"method":"DELETE","url":"Patient/a"}}]}`,
			path:   "/entry/1/request/url",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "post url and type differ",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"},"request":{"method":"POST","url":"Observation"}}]}`,
			path:   "/entry/0/request/url",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "missing request",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient"}}]}`,
			path:   "/entry/0/request",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "bad resource in entry",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient","meta":"x"},"request":{"method":"POST","url":"Patient"}}]}`,
			path:   "/entry/0/resource/meta",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "invalid json in a resource",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient",},"request":{"method":"POST","url":"Patient"}}]}`,
			path:   "/entry/0/resource",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "missing comma between entries",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET","url":"Patient/a"}} {"request":{"method":"GET","url":"Patient/b"}}]}`,
			path:   "",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "invalid json in an ignored member",
			bundle: `{"resourceType":"Bundle","type":"transaction","meta":{"x":tru},"entry":[]}`,
			path:   "/meta",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "text after the bundle",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[]} {}`,
			path:   "",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "not a bundle",
			bundle: `{"resourceType":"Patient"}`,
			path:   "/resourceType",
			is:     sdk.ErrInvalid,
		},
		{
			name:   "history bundle",
			bundle: `{"resourceType":"Bundle","type":"history"}`,
			path:   "/type",
			is:     sdk.ErrInvalid,
		},
	}
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.ProcessBundle(context.Background(), "acme", []byte(tc.bundle))
				require.Error(t, err)
				assert.True(t, errors.Is(err, tc.is), "got %v", err)
				assert.Equal(t, tc.path, sdk.AsOutcome(err).Issues[0].Path)
			})
		}
	})
}

func TestTransactionReportsSyntaxErrorOffset(t *testing.T) {
	tests := []struct {
		name, bundle, want string
	}{
		{
			name:   "in a resource",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"resource":{"resourceType":"Patient",},"request":{"method":"POST","url":"Patient"}}]}`,
			want:   "entry 0: read resource: invalid JSON at byte 27: invalid character '}'",
		},
		{
			name:   "in the bundle",
			bundle: `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"GET" "url":"Patient/a"}}]}`,
			want:   "byte 83: invalid character '\"' after object key:value pair",
		},
	}
	s := openStore(t, dbtest.Backends[0], store.Options{})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.ProcessBundle(context.Background(), "acme", []byte(tc.bundle))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestTransactionConditionalCreate(t *testing.T) {
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"fullUrl":"urn:uuid:11111111-2222-3333-4444-555555555555","resource":{"resourceType":"Practitioner","identifier":[{"system":"http://hl7.org/fhir/sid/us-npi","value":"42"}]},
		 "request":{"method":"POST","url":"Practitioner","ifNoneExist":"identifier=http://hl7.org/fhir/sid/us-npi|42"}},
		{"resource":{"resourceType":"Encounter","participant":[{"individual":{"reference":"urn:uuid:11111111-2222-3333-4444-555555555555"}}]},"request":{"method":"POST","url":"Encounter"}}
	]}`
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		first, err := s.ProcessBundle(ctx, "acme", []byte(bundle))
		require.NoError(t, err)
		assert.Equal(t, "201 Created", first.Entries[0].Status)

		second, err := s.ProcessBundle(ctx, "acme", []byte(bundle))
		require.NoError(t, err)
		assert.Equal(t, "200 OK", second.Entries[0].Status, "the practitioner exists: no second create")
		assert.Equal(t, first.Entries[0].Location, second.Entries[0].Location)

		practitioner := first.Entries[0].Location[:len(first.Entries[0].Location)-len("/_history/1")]
		assert.Contains(t, string(second.Entries[1].Resource.Body), `"reference":"`+practitioner+`"`)

		page, err := s.Search(ctx, "acme", "Practitioner", url.Values{})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 1)
	})
}

func TestBatchReportsEachEntry(t *testing.T) {
	bundle := `{"resourceType":"Bundle","type":"batch","entry":[
		{"resource":{"resourceType":"Patient","gender":"female"},"request":{"method":"POST","url":"Patient"}},
		{"request":{"method":"GET","url":"Patient/missing"}},
		{"resource":{"resourceType":"Observation","subject":{"reference":"Patient?identifier=none|none"}},"request":{"method":"POST","url":"Observation"}},
		{"request":{"method":"DELETE","url":"Patient/missing"}},
		{"request":{"method":"PATCH","url":"Patient/x"}},
		{"resource":{"resourceType":"Patient","id":"p9"},"request":{"method":"PUT","url":"Patient/p9","ifMatch":"W/\"3\""}}
	]}`
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		resp, err := s.ProcessBundle(context.Background(), "acme", []byte(bundle))
		require.NoError(t, err)
		assert.Equal(t, "batch-response", resp.Type)
		require.Len(t, resp.Entries, 6)

		want := []string{"201 Created", "404 Not Found", "400 Bad Request", "404 Not Found", "501 Not Implemented", "412 Precondition Failed"}
		for i, status := range want {
			assert.Equal(t, status, resp.Entries[i].Status, "entry %d", i)
		}
		assert.Nil(t, resp.Entries[0].Outcome)
		require.NotNil(t, resp.Entries[2].Outcome)
		assert.Equal(t, "/entry/2/resource/subject/reference", resp.Entries[2].Outcome.Issues[0].Path)

		page, err := s.Search(context.Background(), "acme", "Patient", url.Values{})
		require.NoError(t, err)
		assert.Len(t, page.Resources, 1, "the successful batch entry is stored")
	})
}

func TestBundleSearchEntries(t *testing.T) {
	bundle := `{"resourceType":"Bundle","type":"transaction","entry":[
		{"resource":{"resourceType":"Patient","name":[{"family":"Chalmers"}]},"request":{"method":"POST","url":"Patient"}},
		{"resource":{"resourceType":"Patient","name":[{"family":"Chalmers"}]},"request":{"method":"POST","url":"Patient"}},
		{"request":{"method":"GET","url":"Patient?family=chal&_count=1"}},
		{"request":{"method":"GET","url":"Patient?family=nobody"}}
	]}`
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		resp, err := s.ProcessBundle(context.Background(), "acme", []byte(bundle))
		require.NoError(t, err)
		require.Len(t, resp.Entries, 4)

		var page struct {
			ResourceType string `json:"resourceType"`
			Type         string `json:"type"`
			Link         []struct {
				Relation string `json:"relation"`
				URL      string `json:"url"`
			} `json:"link"`
			Entry []struct {
				FullURL string `json:"fullUrl"`
			} `json:"entry"`
		}
		found := resp.Entries[2]
		assert.Equal(t, "200 OK", found.Status)
		require.NotNil(t, found.Resource)
		require.NoError(t, json.Unmarshal(found.Resource.Body, &page))
		assert.Equal(t, "searchset", page.Type)
		require.Len(t, page.Entry, 1, "_count=1 gives one match per page")
		assert.Equal(t, resp.Entries[0].Location[:len(resp.Entries[0].Location)-len("/_history/1")], page.Entry[0].FullURL,
			"the search sees the transaction's own writes")
		require.Len(t, page.Link, 1)
		assert.Equal(t, "next", page.Link[0].Relation)

		next, err := url.Parse(page.Link[0].URL)
		require.NoError(t, err)
		second, err := s.Search(context.Background(), "acme", "Patient", next.Query())
		require.NoError(t, err)
		require.Len(t, second.Resources, 1, "the next link continues the search")
		assert.NotEqual(t, page.Entry[0].FullURL, "Patient/"+second.Resources[0].ID)

		require.NoError(t, json.Unmarshal(resp.Entries[3].Resource.Body, &page))
		assert.Empty(t, page.Entry)
	})
}
