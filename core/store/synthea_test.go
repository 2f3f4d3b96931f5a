package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyntheaImportByteForByte(t *testing.T) {
	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			s := openStore(t, b, store.Options{})
			checkSyntheaRoundTrip(t, s)
		})
		t.Run(b.Name+" with blobs", func(t *testing.T) {
			blobs, err := fsstore.New(fsstore.Config{Root: t.TempDir()})
			require.NoError(t, err)
			t.Cleanup(func() { blobs.Close() })
			cfg := storeConfig(t, b)
			cfg.BlobThresholdBytes = 256
			s := openStoreWith(t, cfg, store.Options{Blobs: blobs})
			checkSyntheaRoundTrip(t, s)

			page, err := blobs.List(context.Background(), sdk.ListOptions{Prefix: "acme/blobs/"})
			require.NoError(t, err)
			assert.NotEmpty(t, page.Objects, "clinical notes above 256 base64 characters go to the blob store")
		})
	}
}

// checkSyntheaRoundTrip imports both Synthea bundles and checks that every
// resource reads back byte for byte.
func checkSyntheaRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, path := range syntheaBundles(t) {
		bundle, err := os.ReadFile(path)
		require.NoError(t, err)
		conditional := loadReferencedResources(t, s, "acme", bundle)

		resp, err := s.ProcessBundle(ctx, "acme", bundle)
		require.NoError(t, err)
		assert.Equal(t, "transaction-response", resp.Type)

		var b rawBundle
		require.NoError(t, json.Unmarshal(bundle, &b))
		require.Len(t, resp.Entries, len(b.Entry))

		rewrites := map[string]string{}
		for ref, target := range conditional {
			rewrites[ref] = target
		}
		for i, e := range b.Entry {
			rewrites[e.FullURL] = resp.Entries[i].Location[:len(resp.Entries[i].Location)-len("/_history/1")]
		}

		for i, e := range b.Entry {
			entry := resp.Entries[i]
			require.Equal(t, "201 Created", entry.Status, "entry %d", i)
			resourceType, id := typeAndID(entry.Location)

			got, err := s.Read(ctx, "acme", resourceType, id)
			require.NoError(t, err, "entry %d", i)
			assert.Equal(t, "1", got.VersionID)
			assert.Equal(t, entry.LastUpdated, got.LastUpdated)

			want := expectedBody(e.Resource, idOf(t, e.Resource), id, rewrites)
			stripped := stripInsertedMeta(t, got.Body, got, hasTopLevelMeta(e.Resource))
			if !assert.Equal(t, string(want), string(stripped), "entry %d (%s) must read back byte for byte", i, entry.Location) {
				return
			}
		}
	}
}

func TestSyntheaMissingConditionalReference(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		bundle := repoFile(t, "synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")

		refs := loadReferencedResources(t, s, "other-tenant", bundle)
		require.NotEmpty(t, refs, "the referenced resources exist, but in another tenant")

		_, err := s.ProcessBundle(ctx, "acme", bundle)
		require.Error(t, err)
		assert.True(t, errors.Is(err, sdk.ErrInvalid), "got %v", err)

		o := sdk.AsOutcome(err)
		require.Len(t, o.Issues, 1)
		assert.Contains(t, o.Issues[0].Diagnostics, "entry 1:")
		assert.Contains(t, o.Issues[0].Diagnostics, `"Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999955949"`)
		assert.Equal(t, "/entry/1/resource/participant/0/individual/reference", o.Issues[0].Path)

		page, err := s.Search(ctx, "acme", "Patient", url.Values{})
		require.NoError(t, err)
		assert.Empty(t, page.Resources, "a failed transaction stores nothing")
	})
}

func TestSyntheaSearchAfterImport(t *testing.T) {
	forEachBackend(t, store.Options{}, func(t *testing.T, s store.Store) {
		ctx := context.Background()
		bundle := repoFile(t, "synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
		conditional := loadReferencedResources(t, s, "acme", bundle)
		resp, err := s.ProcessBundle(ctx, "acme", bundle)
		require.NoError(t, err)
		_, patientID := typeAndID(resp.Entries[0].Location)
		practitioner := conditional["Practitioner?identifier=http://hl7.org/fhir/sid/us-npi|9999955949"]
		require.NotEmpty(t, practitioner)

		tests := []struct {
			name         string
			resourceType string
			query        string
			want         int
		}{
			{"patient by family", "Patient", "family=keel", 1},
			{"patient by given accent-insensitive", "Patient", "given=BÓB", 1},
			{"patient by name exact miss", "Patient", "name:exact=keeling57", 0},
			{"patient by name exact", "Patient", "name:exact=Keeling57", 1},
			{"patient by birthdate year", "Patient", "birthdate=1991", 1},
			{"patient by birthdate lt", "Patient", "birthdate=lt1991", 0},
			{"encounters of patient", "Encounter", "patient=" + patientID, 32},
			{"encounters of patient by subject", "Encounter", "subject=Patient/" + patientID, 32},
			{"immunizations of patient", "Immunization", "patient=Patient/" + patientID, 46},
			{"observations in 2019", "Observation", "date=ge2019-01-01&date=lt2020-01-01", countObservations(t, bundle, "2019", "2020")},
			{"observations before 2019", "Observation", "date=lt2019-01-01", 0},
			{"observations sa 2018", "Observation", "date=sa2018", 30},
			{"encounters finished", "Encounter", "status=finished", 32},
			{"encounter status other", "Encounter", "status=planned", 0},
			{"observations by code system", "Observation", "code=http://loinc.org|", countObservations(t, bundle, "0000", "9999")},
			{"practitioner by identifier", "Practitioner", "identifier=http://hl7.org/fhir/sid/us-npi|9999955949", 1},
			{"practitioner by identifier value", "Practitioner", "identifier=9999955949", 1},
			{"practitioner by wrong system", "Practitioner", "identifier=urn:other|9999955949", 0},
			{"by id", "Practitioner", "_id=" + practitioner[len("Practitioner/"):], 1},
			{"last updated today", "Patient", "_lastUpdated=ge2000-01-01", 1},
			{"last updated future", "Patient", "_lastUpdated=gt2999-01-01", 0},
			{"family and id together", "Patient", "family=keel&_id=" + patientID, 1},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				params, err := url.ParseQuery(tc.query)
				require.NoError(t, err)
				params.Set("_count", "1000")
				page, err := s.Search(ctx, "acme", tc.resourceType, params)
				require.NoError(t, err)
				assert.Len(t, page.Resources, tc.want)
				assert.Empty(t, page.Next)
			})
		}

		page, err := s.Search(ctx, "other", "Patient", url.Values{"family": {"keel"}})
		require.NoError(t, err)
		assert.Empty(t, page.Resources, "another tenant must not see acme's patients")
	})
}

// countObservations counts the Observations of a bundle whose
// effectiveDateTime lies in [from, to) by comparing the leading year text.
func countObservations(t *testing.T, bundle []byte, from, to string) int {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType      string `json:"resourceType"`
				EffectiveDateTime string `json:"effectiveDateTime"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(bundle, &b))
	n := 0
	defer func() { require.Positive(t, n, "the bundle must have observations in [%s, %s)", from, to) }()
	for _, e := range b.Entry {
		r := e.Resource
		if r.ResourceType == "Observation" && r.EffectiveDateTime[:4] >= from && r.EffectiveDateTime[:4] < to {
			n++
		}
	}
	return n
}
