package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/healthhub/healthhub/core/audit"
	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type auditEventJSON struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Action       string `json:"action"`
	Outcome      string `json:"outcome"`
	Recorded     string `json:"recorded"`
	Subtype      []struct {
		System string `json:"system"`
		Code   string `json:"code"`
	} `json:"subtype"`
	Agent []struct {
		Requestor bool `json:"requestor"`
		Who       struct {
			Identifier struct {
				Value string `json:"value"`
			} `json:"identifier"`
			Display string `json:"display"`
		} `json:"who"`
		Policy []string `json:"policy"`
	} `json:"agent"`
	Entity []struct {
		What struct {
			Reference string `json:"reference"`
		} `json:"what"`
		Detail []struct {
			Type        string `json:"type"`
			ValueString string `json:"valueString"`
		} `json:"detail"`
	} `json:"entity"`
	PurposeOfEvent []struct {
		Coding []struct {
			Code string `json:"code"`
		} `json:"coding"`
	} `json:"purposeOfEvent"`
}

func TestExportAsFHIRAuditEvents(t *testing.T) {
	db := newTestDB(t, dbtest.Backends[0])
	ctx := context.Background()
	l := openLog(t, db.cfg, newKey(t))

	denied := event("acme", "p1", 1)
	denied.Decision, denied.Outcome, denied.Reasons = audit.Deny, "forbidden", []string{"no consent"}
	transcribe := event("acme", "p1", 2)
	transcribe.Action, transcribe.Provider, transcribe.ProviderVersion = "provider.transcribe", "whisper-local", "1.4.0"
	transcribe.ModelID, transcribe.PayloadSHA256 = "small.en", audit.HashPayload([]byte("audio bytes"))
	for _, e := range []audit.Event{event("acme", "p1", 0), denied, transcribe, event("globex", "p7", 3)} {
		_, err := l.Append(ctx, e)
		require.NoError(t, err)
	}

	t.Run("ndjson", func(t *testing.T) {
		var out bytes.Buffer
		n, err := l.Export(ctx, &out, audit.Filter{Tenant: "acme"}, audit.FormatNDJSON)
		require.NoError(t, err)
		assert.Equal(t, 3, n)

		var events []auditEventJSON
		sc := bufio.NewScanner(&out)
		for sc.Scan() {
			var ev auditEventJSON
			require.NoError(t, json.Unmarshal(sc.Bytes(), &ev))
			events = append(events, ev)
		}
		require.Len(t, events, 3)

		read := events[0]
		assert.Equal(t, "AuditEvent", read.ResourceType)
		assert.Equal(t, "R", read.Action)
		assert.Equal(t, "0", read.Outcome)
		assert.Equal(t, "http://hl7.org/fhir/restful-interaction", read.Subtype[0].System)
		assert.Equal(t, "dr-house", read.Agent[0].Who.Identifier.Value)
		assert.Equal(t, []string{"dec-0"}, read.Agent[0].Policy)
		assert.Equal(t, "Observation/obs-0", read.Entity[0].What.Reference)
		assert.Equal(t, "Patient/p1", read.Entity[1].What.Reference)
		assert.Equal(t, "TREAT", read.PurposeOfEvent[0].Coding[0].Code)

		assert.Equal(t, "4", events[1].Outcome, "a denied request is a minor failure")

		call := events[2]
		assert.Equal(t, "E", call.Action)
		assert.Equal(t, "whisper-local 1.4.0", call.Agent[1].Who.Display)
		details := map[string]string{}
		for _, d := range call.Entity[0].Detail {
			details[d.Type] = d.ValueString
		}
		assert.Equal(t, "small.en", details["model-id"])
		assert.Equal(t, audit.HashPayload([]byte("audio bytes")), details["payload-sha256"])
		assert.Equal(t, "3", details["chain-seq"])
	})

	t.Run("bundle", func(t *testing.T) {
		var out bytes.Buffer
		n, err := l.Export(ctx, &out, audit.Filter{}, audit.FormatBundle)
		require.NoError(t, err)
		assert.Equal(t, 4, n, "no tenant exports every tenant")

		var bundle struct {
			ResourceType string `json:"resourceType"`
			Type         string `json:"type"`
			Entry        []struct {
				FullURL  string         `json:"fullUrl"`
				Resource auditEventJSON `json:"resource"`
			} `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &bundle))
		assert.Equal(t, "Bundle", bundle.ResourceType)
		assert.Equal(t, "collection", bundle.Type)
		require.Len(t, bundle.Entry, 4)
		assert.Equal(t, "urn:uuid:"+bundle.Entry[0].Resource.ID, bundle.Entry[0].FullURL)
	})

	t.Run("empty", func(t *testing.T) {
		var out bytes.Buffer
		n, err := l.Export(ctx, &out, audit.Filter{Tenant: "nobody"}, audit.FormatBundle)
		require.NoError(t, err)
		assert.Zero(t, n)
		assert.True(t, json.Valid(out.Bytes()))
	})
}
