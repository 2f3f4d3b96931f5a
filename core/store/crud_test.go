package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateKeepsBytes(t *testing.T) {
	tests := []struct {
		name, body, want string
	}{
		{
			name: "no id no meta",
			body: `{"resourceType":"Observation","valueQuantity":{"value":1.500000000000000000001,"unit":"mg"}}`,
			want: `{"resourceType":"Observation","id":"ID","meta":{"versionId":"1","lastUpdated":"LU"},"valueQuantity":{"value":1.500000000000000000001,"unit":"mg"}}`,
		},
		{
			name: "id replaced meta inserted",
			body: "{\n \"resourceType\" : \"Patient\",\n \"id\": \"client\",\n \"gender\": \"female\" }",
			want: "{\n \"resourceType\" : \"Patient\",\n \"id\": \"ID\",\"meta\":{\"versionId\":\"1\",\"lastUpdated\":\"LU\"},\n \"gender\": \"female\" }",
		},
		{
			name: "meta members kept",
			body: `{"meta":{"profile":["p"],"versionId":"9"},"resourceType":"Patient","birthDate":"1970-01-01"}`,
			want: `{"meta":{"lastUpdated":"LU","profile":["p"],"versionId":"1"},"resourceType":"Patient","id":"ID","birthDate":"1970-01-01"}`,
		},
		{
			name: "empty meta",
			body: `{"resourceType":"Patient","meta":{ },"active":true}`,
			want: `{"resourceType":"Patient","id":"ID","meta":{"versionId":"1","lastUpdated":"LU" },"active":true}`,
		},
		{
			name: "unicode and escapes kept",
			body: `{"resourceType":"Patient","name":[{"family":"M\u00fcller","given":["Zoë"]}],"x":1E+2}`,
			want: `{"resourceType":"Patient","id":"ID","meta":{"versionId":"1","lastUpdated":"LU"},"name":[{"family":"M\u00fcller","given":["Zoë"]}],"x":1E+2}`,
		},
	}
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				ctx := context.Background()
				created, err := s.Create(ctx, "acme", []byte(tc.body))
				require.NoError(t, err)
				assert.Regexp(t, `^[A-Za-z0-9\-.]{1,64}$`, created.ID, "server-assigned ids are FHIR ids")
				lu := created.LastUpdated.Format("2006-01-02T15:04:05.000000Z07:00")
				want := strings.NewReplacer("ID", created.ID, "LU", lu).Replace(tc.want)
				assert.Equal(t, want, string(created.Body))

				got, err := s.Read(ctx, "acme", created.Type, created.ID)
				require.NoError(t, err)
				assert.Equal(t, want, string(got.Body))
				assert.True(t, json.Valid(got.Body))
			})
		}
	})
}

func TestCreateRejectsBadInput(t *testing.T) {
	tests := []struct {
		name, tenant, body, path string
	}{
		{"not json", "acme", `{"resourceType":`, ""},
		{"array", "acme", `[1,2]`, ""},
		{"no type", "acme", `{"id":"x"}`, "/resourceType"},
		{"bad type", "acme", `{"resourceType":"patient"}`, "/resourceType"},
		{"duplicate id", "acme", `{"resourceType":"Patient","id":"a","id":"b"}`, "/id"},
		{"meta not object", "acme", `{"resourceType":"Patient","meta":[]}`, "/meta"},
		{"bad tenant", "../etc", `{"resourceType":"Patient"}`, ""},
	}
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				_, err := s.Create(context.Background(), tc.tenant, []byte(tc.body))
				require.Error(t, err)
				assert.True(t, errors.Is(err, sdk.ErrInvalid), "got %v", err)
				var o *sdk.Outcome
				require.ErrorAs(t, err, &o)
				assert.Equal(t, tc.path, o.Issues[0].Path)
			})
		}
	})
}

func TestUpdateVersionsAndIfMatch(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		body := func(gender string) []byte {
			return []byte(`{"resourceType":"Patient","id":"p1","gender":"` + gender + `"}`)
		}

		created, isNew, err := s.Update(ctx, "acme", "Patient", "p1", body("female"), store.WriteOptions{})
		require.NoError(t, err)
		assert.True(t, isNew)
		assert.Equal(t, "1", created.VersionID)

		second, isNew, err := s.Update(ctx, "acme", "Patient", "p1", body("male"), store.WriteOptions{IfMatch: `W/"1"`})
		require.NoError(t, err)
		assert.False(t, isNew)
		assert.Equal(t, "2", second.VersionID)
		assert.Equal(t, `W/"2"`, second.ETag())

		_, _, err = s.Update(ctx, "acme", "Patient", "p1", body("other"), store.WriteOptions{IfMatch: `W/"1"`})
		require.Error(t, err)
		assert.True(t, errors.Is(err, sdk.ErrConflict), "stale If-Match: got %v", err)
		assert.Contains(t, err.Error(), "current version is 2")

		_, _, err = s.Update(ctx, "acme", "Patient", "p2", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{IfMatch: "1"})
		assert.True(t, errors.Is(err, sdk.ErrConflict), "If-Match on a missing resource: got %v", err)

		_, _, err = s.Update(ctx, "acme", "Patient", "p1", []byte(`{"resourceType":"Patient","id":"other"}`), store.WriteOptions{})
		assert.True(t, errors.Is(err, sdk.ErrInvalid), "id mismatch: got %v", err)

		_, _, err = s.Update(ctx, "acme", "Patient", "p1", []byte(`{"resourceType":"Observation"}`), store.WriteOptions{})
		assert.True(t, errors.Is(err, sdk.ErrInvalid), "type mismatch: got %v", err)

		got, err := s.Read(ctx, "acme", "Patient", "p1")
		require.NoError(t, err)
		assert.Equal(t, "2", got.VersionID)
		assert.Contains(t, string(got.Body), `"gender":"male"`)

		v1, err := s.VRead(ctx, "acme", "Patient", "p1", "1")
		require.NoError(t, err)
		assert.Contains(t, string(v1.Body), `"gender":"female"`)
	})
}

func TestDeleteKeepsHistory(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		res, err := s.Create(ctx, "acme", []byte(`{"resourceType":"Patient","gender":"female"}`))
		require.NoError(t, err)
		_, _, err = s.Update(ctx, "acme", "Patient", res.ID, []byte(`{"resourceType":"Patient","gender":"male"}`), store.WriteOptions{})
		require.NoError(t, err)

		_, err = s.Delete(ctx, "acme", "Patient", res.ID, store.WriteOptions{IfMatch: "1"})
		assert.True(t, errors.Is(err, sdk.ErrConflict), "stale If-Match on delete: got %v", err)

		deleted, err := s.Delete(ctx, "acme", "Patient", res.ID, store.WriteOptions{})
		require.NoError(t, err)
		assert.True(t, deleted.Deleted)
		assert.Equal(t, "3", deleted.VersionID)

		again, err := s.Delete(ctx, "acme", "Patient", res.ID, store.WriteOptions{})
		require.NoError(t, err, "deleting a deleted resource succeeds")
		assert.Equal(t, "3", again.VersionID, "and writes no new version")

		_, err = s.Read(ctx, "acme", "Patient", res.ID)
		require.Error(t, err)
		assert.True(t, errors.Is(err, sdk.ErrNotFound))
		assert.Equal(t, sdk.CodeDeleted, sdk.AsOutcome(err).Issues[0].Code)

		_, err = s.Delete(ctx, "acme", "Patient", "never-existed", store.WriteOptions{})
		assert.True(t, errors.Is(err, sdk.ErrNotFound))

		history, err := s.History(ctx, "acme", "Patient", res.ID, store.HistoryOptions{})
		require.NoError(t, err)
		require.Len(t, history.Versions, 3)
		assert.Equal(t, []string{"3", "2", "1"}, []string{history.Versions[0].VersionID, history.Versions[1].VersionID, history.Versions[2].VersionID})
		assert.True(t, history.Versions[0].Deleted)
		assert.Nil(t, history.Versions[0].Body)
		assert.Contains(t, string(history.Versions[2].Body), `"female"`)

		page, err := s.Search(ctx, "acme", "Patient", url.Values{"_id": {res.ID}})
		require.NoError(t, err)
		assert.Empty(t, page.Resources, "search must not return deleted resources")

		restored, created, err := s.Update(ctx, "acme", "Patient", res.ID, []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
		require.NoError(t, err)
		assert.False(t, created)
		assert.Equal(t, "4", restored.VersionID, "an update after a delete continues the history")
	})
}

func TestHistoryPaging(t *testing.T) {
	forEachBackendWith(t, func() store.Options { return store.Options{Now: tickingClock()} }, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		for range 5 {
			_, _, err := s.Update(ctx, "acme", "Patient", "h", []byte(`{"resourceType":"Patient"}`), store.WriteOptions{})
			require.NoError(t, err)
		}
		var seen []string
		cursor := ""
		for {
			page, err := s.History(ctx, "acme", "Patient", "h", store.HistoryOptions{Count: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, v := range page.Versions {
				seen = append(seen, v.VersionID)
			}
			if page.Next == "" {
				break
			}
			cursor = page.Next
		}
		assert.Equal(t, []string{"5", "4", "3", "2", "1"}, seen)

		all, err := s.History(ctx, "acme", "Patient", "h", store.HistoryOptions{})
		require.NoError(t, err)
		since := all.Versions[1].LastUpdated
		recent, err := s.History(ctx, "acme", "Patient", "h", store.HistoryOptions{Since: since})
		require.NoError(t, err)
		require.Len(t, recent.Versions, 2, "versions 5 and 4 were written at or after version 4")
		assert.Equal(t, "4", recent.Versions[1].VersionID)

		_, err = s.History(ctx, "acme", "Patient", "h", store.HistoryOptions{Cursor: "abc"})
		assert.True(t, errors.Is(err, sdk.ErrInvalid), "a malformed cursor is rejected: got %v", err)

		_, err = s.History(ctx, "acme", "Patient", "missing", store.HistoryOptions{})
		assert.True(t, errors.Is(err, sdk.ErrNotFound))
	})
}

func TestTenantIsolation(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		_, _, err := s.Update(ctx, "tenant-a", "Patient", "shared-id", []byte(`{"resourceType":"Patient","gender":"female"}`), store.WriteOptions{})
		require.NoError(t, err)
		_, created, err := s.Update(ctx, "tenant-b", "Patient", "shared-id", []byte(`{"resourceType":"Patient","gender":"male"}`), store.WriteOptions{})
		require.NoError(t, err)
		assert.True(t, created, "the same id in another tenant is another resource")

		a, err := s.Read(ctx, "tenant-a", "Patient", "shared-id")
		require.NoError(t, err)
		assert.Contains(t, string(a.Body), "female")

		_, err = s.Read(ctx, "tenant-c", "Patient", "shared-id")
		assert.True(t, errors.Is(err, sdk.ErrNotFound))

		_, err = s.Delete(ctx, "tenant-c", "Patient", "shared-id", store.WriteOptions{})
		assert.True(t, errors.Is(err, sdk.ErrNotFound))

		page, err := s.Search(ctx, "tenant-b", "Patient", url.Values{})
		require.NoError(t, err)
		require.Len(t, page.Resources, 1)
		assert.Contains(t, string(page.Resources[0].Body), `"male"`)
	})
}
