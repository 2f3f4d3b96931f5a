package api

import (
	"context"
	"encoding/json"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/core/store"
)

func TestFactsOf(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		patient string
		labels  int
	}{
		{"patient is its own", `{"resourceType":"Patient","id":"p1"}`, "Patient/p1", 0},
		{"subject", `{"resourceType":"Observation","subject":{"reference":"Patient/p2"}}`, "Patient/p2", 0},
		{"patient element", `{"resourceType":"Consent","patient":{"reference":"Patient/p3"}}`, "Patient/p3", 0},
		{"beneficiary", `{"resourceType":"Coverage","beneficiary":{"reference":"Patient/p4"}}`, "Patient/p4", 0},
		{"subject not a patient", `{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`, "", 0},
		{"transaction reference", `{"resourceType":"Observation","subject":{"reference":"urn:uuid:1234"}}`, "", 0},
		{"labels", `{"resourceType":"Condition","subject":{"reference":"Patient/p5"},"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"PSY"}]}}`, "Patient/p5", 1},
		{"not json", `{"resourceType":`, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			facts := factsOf([]byte(tc.body))
			assert.Equal(t, tc.patient, facts.patient)
			assert.Len(t, facts.labels, tc.labels)
		})
	}
}

func TestSearchPatient(t *testing.T) {
	tests := []struct {
		resourceType, query, want string
	}{
		{"Observation", "patient=p1", "Patient/p1"},
		{"Observation", "patient=Patient/p1", "Patient/p1"},
		{"Observation", "subject=Patient/p2", "Patient/p2"},
		{"Observation", "subject=Group/g1", ""},
		{"Observation", "patient=p1,p2", ""},
		{"Observation", "code=1234", ""},
		{"Patient", "_id=p3", "Patient/p3"},
		{"Patient", "family=Lee", ""},
	}
	for _, tc := range tests {
		t.Run(tc.resourceType+"?"+tc.query, func(t *testing.T) {
			query, err := url.ParseQuery(tc.query)
			assert.NoError(t, err)
			assert.Equal(t, tc.want, searchPatient(tc.resourceType, query))
		})
	}
}

func TestConsentCache(t *testing.T) {
	var cache consentCache
	now := time.Now()
	consents := []json.RawMessage{[]byte(`{"resourceType":"Consent"}`)}
	cache.put("north", "Patient/p1", consents, now)
	cache.put("south", "Patient/p1", nil, now)

	got, ok := cache.get("north", "Patient/p1", now.Add(consentTTL-time.Millisecond))
	assert.True(t, ok)
	assert.Equal(t, consents, got)
	_, ok = cache.get("north", "Patient/p1", now.Add(consentTTL))
	assert.False(t, ok, "entries expire")

	cache.forget("north")
	_, ok = cache.get("north", "Patient/p1", now)
	assert.False(t, ok, "a Consent write clears the tenant")
	_, ok = cache.get("south", "Patient/p1", now)
	assert.True(t, ok, "other tenants keep their entries")
}

// countingSessions counts the calls that reach the store.
type countingSessions struct {
	store.BreakGlassSessions
	calls int
}

func (c *countingSessions) StartBreakGlass(ctx context.Context, tenant, session string, now time.Time, window time.Duration) (time.Time, error) {
	c.calls++
	return c.BreakGlassSessions.StartBreakGlass(ctx, tenant, session, now, window)
}

func TestBreakGlassSessions(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "hub.db")}, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	counted := &countingSessions{BreakGlassSessions: st}

	var sessions breakGlassSessions
	principal := &auth.Principal{ID: "dr-south", Tenant: "south", CredentialID: "jti-1"}
	start := time.Now().UTC().Truncate(time.Microsecond)
	got, err := sessions.start(ctx, counted, principal, start, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, start, got)
	got, err = sessions.start(ctx, counted, principal, start.Add(30*time.Minute), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, start, got, "a session keeps its start")
	assert.Equal(t, 1, counted.calls, "the second request is served from memory")

	var otherHub breakGlassSessions
	got, err = otherHub.start(ctx, counted, principal, start.Add(40*time.Minute), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, start, got, "another hub on the same database continues the session")

	later := start.Add(2 * time.Hour)
	got, err = sessions.start(ctx, counted, principal, later, time.Hour)
	require.NoError(t, err)
	assert.Equal(t, later, got, "after the window a new session starts")

	elsewhere := &auth.Principal{ID: "dr-south", Tenant: "north", CredentialID: "jti-1"}
	got, err = sessions.start(ctx, counted, elsewhere, start.Add(time.Minute), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, start.Add(time.Minute), got, "a session in another tenant is its own")

	other := &auth.Principal{ID: "dr-south", Tenant: "south", CredentialID: "jti-2"}
	got, err = sessions.start(ctx, counted, other, later.Add(time.Second), time.Hour)
	require.NoError(t, err)
	assert.Equal(t, later.Add(time.Second), got, "a new token starts its own session")

	require.NoError(t, st.Close())
	newcomer := &auth.Principal{ID: "dr-north", Tenant: "north", CredentialID: "jti-3"}
	_, err = sessions.start(ctx, counted, newcomer, later, time.Hour)
	assert.Error(t, err, "a session the store cannot record is an error")
}

func TestSessionKeyNamesNoOne(t *testing.T) {
	principal := &auth.Principal{ID: "dr-south", Tenant: "south", CredentialID: "jti-1"}
	key := sessionKey(principal)
	assert.Len(t, key, 64)
	assert.NotContains(t, key, "dr-south")
	other := *principal
	other.CredentialID = "jti-2"
	assert.NotEqual(t, key, sessionKey(&other))
}

func TestDecisionKeySeparatesInputs(t *testing.T) {
	base := entryTarget{action: "create", resource: policy.Resource{Type: "Observation", Patient: "Patient/p1"}}
	labelled := base
	labelled.resource.SecurityLabels = []policy.Coding{{Code: "PSY"}}
	otherPatient := base
	otherPatient.resource.Patient = "Patient/p2"
	assert.Equal(t, decisionKey(base), decisionKey(base))
	assert.NotEqual(t, decisionKey(base), decisionKey(labelled))
	assert.NotEqual(t, decisionKey(base), decisionKey(otherPatient))
}

func TestAuditObligationsGroupByRule(t *testing.T) {
	report := &obligation.Report{Changes: []obligation.Change{
		{Rule: "minimum.billing", Action: obligation.ActionRemove, Path: "/text"},
		{Rule: "egress.deidentify", Action: obligation.ActionRemove, Path: "/name"},
		{Rule: "minimum.billing", Action: obligation.ActionRemove, Path: "/note"},
	}}
	got := auditObligations(report)
	assert.Len(t, got, 2)
	assert.Equal(t, "minimum.billing", got[0].Rule)
	assert.Equal(t, []string{"/text", "/note"}, got[0].Fields)
	assert.Equal(t, []string{"/name"}, got[1].Fields)
	assert.Nil(t, auditObligations(&obligation.Report{}))
}
