package obligation

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// Values of the Synthea patient Bob965 Keeling57 that identify him.
var bobValues = []string{
	"Bob965", "Keeling57", "999-12-9623", "S99986740", "555-814-8772",
	"247 Cronin Station Suite 76", "Woburn", "01801", "1991-07-08",
	"Shyla233 Reinger292", "Falmouth", "3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b",
}

func TestApplySyntheaBundleDeidentifies(t *testing.T) {
	in := readTestdata(t, "synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	ob := egressObligations(t, "analyze")
	out, report, err := NewSession(Known{}).ApplyJSON(ob, in)
	require.NoError(t, err)

	text := string(out)
	for _, v := range bobValues {
		assert.NotContains(t, text, v)
	}
	notes := attachmentTexts(t, out)
	require.Len(t, notes, 32)
	for _, note := range notes {
		assert.NotContains(t, note, "Bob965")
		assert.NotContains(t, note, "1991-07-08")
	}
	assert.Contains(t, notes[0], "[NAME]")

	reportJSON, err := json.Marshal(report)
	require.NoError(t, err)
	for _, v := range bobValues {
		assert.NotContains(t, string(reportJSON), v, "the report names paths, never values")
	}
	rules := map[string]bool{}
	for _, c := range report.Changes {
		rules[c.Action] = true
		assert.Equal(t, "egress.deidentify", c.Rule)
		assert.True(t, strings.HasPrefix(c.Path, "/"), c.Path)
	}
	for _, action := range []string{ActionRemove, ActionPseudonymize, ActionGeneralize, ActionScrub} {
		assert.True(t, rules[action], "no %s change", action)
	}
}

func TestApplySyntheaBundleKeepsStructure(t *testing.T) {
	in := readTestdata(t, "synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	out, _, err := NewSession(Known{}).ApplyJSON(egressObligations(t, "analyze"), in)
	require.NoError(t, err)

	var bundle struct {
		Entry []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(out, &bundle))
	require.Len(t, bundle.Entry, 238)
	patient := bundle.Entry[0]
	require.Equal(t, "Patient", patient.Resource["resourceType"])
	assert.Equal(t, "1991", patient.Resource["birthDate"])
	assert.NotContains(t, patient.Resource, "name")
	assert.NotContains(t, patient.Resource, "address")
	assert.Equal(t, "urn:uuid:"+patient.Resource["id"].(string), patient.FullURL, "the pseudonymized id still matches the fullUrl")

	// Every reference to the patient follows the new fullUrl.
	for _, e := range bundle.Entry[1:] {
		for _, key := range []string{"subject", "patient"} {
			if ref, ok := e.Resource[key].(map[string]any); ok {
				assert.Equal(t, patient.FullURL, ref["reference"], "%s.%s", e.Resource["resourceType"], key)
			}
		}
	}

	// Numbers are kept as written, such as the Synthea 0.0 and 29.0.
	assert.Contains(t, string(out), `"valueDecimal":0.0`)
	assert.Contains(t, string(out), `"valueDecimal":29.0`)
}

func TestApplyEveryExample(t *testing.T) {
	ob := egressObligations(t, "chat")
	for _, file := range testdataFiles(t, "fhir-r4-examples/*.json") {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in := readTestdata(t, filepath.Join("fhir-r4-examples", filepath.Base(file)))
			s := NewSession(Known{})
			require.NoError(t, s.Learn(readTestdata(t, "fhir-r4-examples/Patient-example.json")))
			out, _, err := s.ApplyJSON(ob, in)
			require.NoError(t, err)
			assert.True(t, json.Valid(out))
			assert.NotContains(t, string(out), "Chalmers")
			assert.NotContains(t, string(out), "1974-12-25")
		})
	}
}

func attachmentTexts(t *testing.T, bundle []byte) []string {
	t.Helper()
	var b struct {
		Entry []struct {
			Resource struct {
				ResourceType string `json:"resourceType"`
				Content      []struct {
					Attachment struct {
						Data string `json:"data"`
					} `json:"attachment"`
				} `json:"content"`
			} `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(bundle, &b))
	var out []string
	for _, e := range b.Entry {
		if e.Resource.ResourceType != "DocumentReference" {
			continue
		}
		for _, c := range e.Resource.Content {
			raw, err := base64.StdEncoding.DecodeString(c.Attachment.Data)
			require.NoError(t, err)
			out = append(out, string(raw))
		}
	}
	return out
}

func TestApplyWithoutObligationsReturnsInput(t *testing.T) {
	in := readTestdata(t, "fhir-r4-examples/Patient-example.json")
	out, report, err := NewSession(Known{}).ApplyJSON(policy.Obligations{AuditLevel: policy.AuditStandard}, in)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	assert.Empty(t, report.Changes)
}

func TestApplyUnchangedPayloadReturnsInput(t *testing.T) {
	in := []byte(`{ "resourceType": "Observation", "status": "final" }`)
	ob := policy.Obligations{Remove: []policy.ElementRule{{Path: "Patient.name", Rule: "r"}}}
	out, report, err := NewSession(Known{}).ApplyJSON(ob, in)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	assert.Empty(t, report.Changes)
}

func TestApplyRejectsBadInput(t *testing.T) {
	ob := policy.Obligations{Remove: []policy.ElementRule{{Path: "Patient.name", Rule: "r"}}}
	for _, in := range []string{`not json`, `[1]`, `{"id": "x"}`} {
		_, _, err := NewSession(Known{}).ApplyJSON(ob, []byte(in))
		assert.ErrorIs(t, err, sdk.ErrInvalid, in)
	}
}

func TestApplyRejectsBadPaths(t *testing.T) {
	for _, path := range []string{"Patient", "patient.name", "Patient.", "Patient.name[0]", "Patient.extension('x", "Patient.extension(x)", "Patient.where(true)"} {
		ob := policy.Obligations{Remove: []policy.ElementRule{{Path: path, Rule: "r"}}}
		_, _, err := NewSession(Known{}).ApplyJSON(ob, []byte(`{"resourceType":"Patient"}`))
		assert.ErrorIs(t, err, ErrInvalidPath, path)
	}
}

func applyOne(t *testing.T, ob policy.Obligations, in string) (string, *Report) {
	t.Helper()
	out, report, err := NewSession(Known{}).ApplyJSON(ob, []byte(in))
	require.NoError(t, err)
	return string(out), report
}

func TestApplyElementOperations(t *testing.T) {
	dar := `{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"masked"}]}`
	tests := []struct {
		name string
		ob   policy.Obligations
		in   string
		want string
		path string
	}{
		{
			name: "remove element and its primitive extension",
			ob:   policy.Obligations{Remove: []policy.ElementRule{{Path: "Patient.birthDate", Rule: "r"}}},
			in:   `{"resourceType":"Patient","birthDate":"1974-12-25","_birthDate":{"extension":[]},"active":true}`,
			want: `{"resourceType":"Patient","active":true}`,
			path: "/birthDate",
		},
		{
			name: "remove extension by url and the emptied array",
			ob:   policy.Obligations{Remove: []policy.ElementRule{{Path: "Patient.extension('http://x/a')", Rule: "r"}}},
			in:   `{"resourceType":"Patient","extension":[{"url":"http://x/a","valueString":"secret"}],"gender":"male"}`,
			want: `{"resourceType":"Patient","gender":"male"}`,
			path: "/extension/0",
		},
		{
			name: "remove one of two extensions",
			ob:   policy.Obligations{Remove: []policy.ElementRule{{Path: "Resource.extension('http://x/b')", Rule: "r"}}},
			in:   `{"resourceType":"Patient","extension":[{"url":"http://x/a","valueInteger":1},{"url":"http://x/b","valueInteger":2}]}`,
			want: `{"resourceType":"Patient","extension":[{"url":"http://x/a","valueInteger":1}]}`,
			path: "/extension/1",
		},
		{
			name: "remove a choice element",
			ob:   policy.Obligations{Remove: []policy.ElementRule{{Path: "Observation.value[x]", Rule: "r"}}},
			in:   `{"resourceType":"Observation","valueQuantity":{"value":6.3},"status":"final"}`,
			want: `{"resourceType":"Observation","status":"final"}`,
			path: "/valueQuantity",
		},
		{
			name: "mask a complex element",
			ob:   policy.Obligations{Mask: []policy.ElementRule{{Path: "Patient.address", Rule: "r"}}},
			in:   `{"resourceType":"Patient","address":[{"city":"Woburn"}]}`,
			want: `{"resourceType":"Patient","address":[` + dar + `]}`,
			path: "/address/0",
		},
		{
			name: "mask a primitive",
			ob:   policy.Obligations{Mask: []policy.ElementRule{{Path: "Patient.birthDate", Rule: "r"}}},
			in:   `{"resourceType":"Patient","birthDate":"1974-12-25","gender":"male"}`,
			want: `{"resourceType":"Patient","gender":"male","_birthDate":` + dar + `}`,
			path: "/birthDate",
		},
		{
			name: "mask primitives in an array",
			ob:   policy.Obligations{Mask: []policy.ElementRule{{Path: "Patient.name.given", Rule: "r"}}},
			in:   `{"resourceType":"Patient","name":[{"given":["Peter","James"]}]}`,
			want: `{"resourceType":"Patient","name":[{"given":[null,null],"_given":[` + dar + `,` + dar + `]}]}`,
			path: "/name/0/given/0",
		},
		{
			name: "generalize to the month, keeping instants whole",
			ob:   policy.Obligations{GeneralizeDates: []policy.DateRule{{Path: "Resource.descendants()", Precision: policy.PrecisionMonth, Rule: "r"}}},
			in:   `{"resourceType":"Observation","effectiveDateTime":"2012-05-29T10:00:00+01:00","issued":"2013-04-03T15:30:10.123+01:00","code":{"text":"2012"}}`,
			want: `{"resourceType":"Observation","effectiveDateTime":"2012-05","issued":"2013-04-01T00:00:00Z","code":{"text":"2012"}}`,
			path: "/effectiveDateTime",
		},
		{
			name: "generalize a named period to the year",
			ob:   policy.Obligations{GeneralizeDates: []policy.DateRule{{Path: "Encounter.period", Precision: policy.PrecisionYear, Rule: "r"}}},
			in:   `{"resourceType":"Encounter","period":{"start":"2015-01-17T16:00:00+10:00","end":"2015-01-17"},"status":"finished"}`,
			want: `{"resourceType":"Encounter","period":{"start":"2015","end":"2015"},"status":"finished"}`,
			path: "/period/start",
		},
		{
			name: "path for another resource type",
			ob:   policy.Obligations{Remove: []policy.ElementRule{{Path: "Practitioner.name", Rule: "r"}}},
			in:   `{"resourceType":"Patient","name":[{"family":"Chalmers"}]}`,
			want: `{"resourceType":"Patient","name":[{"family":"Chalmers"}]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, report := applyOne(t, tc.ob, tc.in)
			assert.JSONEq(t, tc.want, out)
			assert.Equal(t, tokens(t, []byte(tc.want)), tokens(t, []byte(out)), "member order")
			if tc.path == "" {
				assert.Empty(t, report.Changes)
				return
			}
			require.NotEmpty(t, report.Changes)
			assert.Equal(t, tc.path, report.Changes[0].Path)
			assert.Equal(t, "r", report.Changes[0].Rule)
		})
	}
}

func TestApplyBillingRemovesNarrative(t *testing.T) {
	ob := policy.Obligations{Remove: []policy.ElementRule{{Path: "Resource.text", Rule: "minimum.billing"}, {Path: "Resource.note", Rule: "minimum.billing"}}}
	in := readTestdata(t, "fhir-r4-examples/Observation-example.json")
	out, _, err := NewSession(Known{}).ApplyJSON(ob, in)
	require.NoError(t, err)
	var obs map[string]any
	require.NoError(t, json.Unmarshal(out, &obs))
	assert.NotContains(t, obs, "text")
	assert.Contains(t, obs, "valueQuantity")
}

func TestPseudonymsConsistentWithinSession(t *testing.T) {
	ob := policy.Obligations{Pseudonymize: []policy.ElementRule{{Path: "Resource.identifier", Rule: "r"}, {Path: "Resource.subject", Rule: "r"}}}
	first := `{"resourceType":"Observation","identifier":[{"value":"A-1"}],"subject":{"reference":"Patient/p1"}}`
	second := `{"resourceType":"Condition","identifier":[{"value":"A-1"}],"subject":{"reference":"Patient/p1/_history/2"}}`

	s := NewSession(Known{})
	out1, _, err := s.ApplyJSON(ob, []byte(first))
	require.NoError(t, err)
	out2, _, err := s.ApplyJSON(ob, []byte(second))
	require.NoError(t, err)
	id1, ref1 := identifierAndSubject(t, out1)
	id2, ref2 := identifierAndSubject(t, out2)
	assert.Equal(t, id1, id2)
	assert.NotEqual(t, "A-1", id1)
	assert.Regexp(t, `^Patient/[0-9a-f-]{36}$`, ref1)
	assert.Equal(t, ref1+"/_history/2", ref2)

	other, _, err := NewSession(Known{}).ApplyJSON(ob, []byte(first))
	require.NoError(t, err)
	id3, _ := identifierAndSubject(t, other)
	assert.NotEqual(t, id1, id3, "another session gets other tokens")
}

func identifierAndSubject(t *testing.T, b []byte) (string, string) {
	var r struct {
		Identifier []struct{ Value string }   `json:"identifier"`
		Subject    struct{ Reference string } `json:"subject"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	return r.Identifier[0].Value, r.Subject.Reference
}

func TestScrubAttachment(t *testing.T) {
	ob := policy.Obligations{ScrubText: []policy.ScrubRule{{Path: "DocumentReference.content.attachment", Replace: policy.ReplaceRedact, Rule: "r"}}}
	note := base64.StdEncoding.EncodeToString([]byte("Seen 2024-03-01, call 555-123-4567."))
	in := `{"resourceType":"DocumentReference","content":[{"attachment":{"contentType":"text/plain","data":"` + note + `","title":"Note of 03/01/2024"}},{"attachment":{"contentType":"application/pdf","data":"JVBERi0="}}]}`
	out, report := applyOne(t, ob, in)

	var doc struct {
		Content []struct {
			Attachment map[string]string `json:"attachment"`
		} `json:"content"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	text, err := base64.StdEncoding.DecodeString(doc.Content[0].Attachment["data"])
	require.NoError(t, err)
	assert.Equal(t, "Seen [DATE], call [PHONE].", string(text))
	assert.Equal(t, "Note of [DATE]", doc.Content[0].Attachment["title"])
	assert.NotContains(t, doc.Content[1].Attachment, "data", "binary data cannot be scrubbed and is removed")
	assert.Len(t, report.Changes, 3)
}

func TestApplyTextRedacts(t *testing.T) {
	s := NewSession(Known{Names: []string{"Peter", "Chalmers"}, Identifiers: []string{"12345", "example", "AB-1"}, Addresses: []string{"534 Erewhon St"}})
	ob := policy.Obligations{ScrubText: []policy.ScrubRule{{Path: "Resource.text.div", Replace: policy.ReplaceRedact, Rule: "minimum.research"}}}
	tests := []struct{ in, want string }{
		{"Peter Chalmers, MRN 12345", "[NAME] [NAME], MRN [IDENTIFIER]"},
		{"lives at 534 Erewhon St", "lives at [ADDRESS]"},
		{"call (555) 123-4567 or +1 555.123.4567", "call [PHONE] or [PHONE]"},
		{"mail peter@example.org", "mail [EMAIL]"},
		{"SSN 999-12-9623", "SSN [SSN]"},
		{"medical record number: AB-99887", "medical record number: [MRN]"},
		{"licence S99986740", "licence [MRN]"},
		{"born 1974-12-25, seen 3/4/2025 and March 4, 2025 and 4 Mar 2025", "born [DATE], seen [DATE] and [DATE] and [DATE]"},
		{"Annual review of peterson", "Annual review of peterson"},
		{"for example, see below", "for example, see below"},
		{"badge AB-1", "badge [IDENTIFIER]"},
		{"LOINC 34117-2, glucose 6.3 mmol/l", "LOINC 34117-2, glucose 6.3 mmol/l"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			out, report := s.ApplyText(ob, tc.in)
			assert.Equal(t, tc.want, out)
			if tc.in == tc.want {
				assert.Empty(t, report.Changes)
			} else {
				require.Len(t, report.Changes, 1)
				assert.Equal(t, "minimum.research", report.Changes[0].Rule)
				assert.Empty(t, report.Changes[0].Path)
			}
		})
	}
}

func TestApplyTextRedactWinsOverPseudonymize(t *testing.T) {
	ob := policy.Obligations{ScrubText: []policy.ScrubRule{
		{Path: "Resource.text.div", Replace: policy.ReplacePseudonymize, Rule: "egress.deidentify"},
		{Path: "Resource.text.div", Replace: policy.ReplaceRedact, Rule: "minimum.research"},
	}}
	out, _ := NewSession(Known{}).ApplyText(ob, "call 555-123-4567")
	assert.Equal(t, "call [PHONE]", out)
}

func TestChatRoundTrip(t *testing.T) {
	ob := egressObligations(t, "chat")
	require.True(t, ob.Reidentify)
	s := NewSession(Known{})
	require.NoError(t, s.Learn(readTestdata(t, "fhir-r4-examples/Patient-example.json")))

	message := "Summarize the labs of Peter Chalmers, phone (03) 5555 6473, seen 2024-03-01."
	sent, report := s.ApplyText(ob, message)
	assert.NotContains(t, sent, "Peter")
	assert.NotContains(t, sent, "Chalmers")
	assert.NotContains(t, sent, "5555 6473")
	assert.NotContains(t, sent, "2024-03-01")
	require.Len(t, report.Changes, 1)
	assert.Equal(t, map[string]int{CategoryName: 2, CategoryPhone: 1, CategoryDate: 1}, report.Changes[0].Found)

	// The provider replies with the tokens, and the hub maps them back.
	reply := "The patient " + strings.TrimPrefix(sent, "Summarize the labs of ")
	restored, report, err := s.Restore(ob, reply)
	require.NoError(t, err)
	assert.Equal(t, "The patient Peter Chalmers, phone (03) 5555 6473, seen 2024-03-01.", restored)
	assert.Equal(t, 4, report.Changes[0].Found["token"])

	// Tokens this session did not make stay as they are.
	stranger := "9f0c6f2e-4b1d-4c55-9a3e-0d7b4a1c2e3f"
	restored, _, err = s.Restore(ob, stranger)
	require.NoError(t, err)
	assert.Equal(t, stranger, restored)
}

func TestRestoreNeedsReidentify(t *testing.T) {
	s := NewSession(Known{})
	ob := egressObligations(t, "chat")
	sent, _ := s.ApplyText(ob, "call 555-123-4567")
	ob.Reidentify = false
	out, _, err := s.Restore(ob, sent)
	require.True(t, errors.Is(err, ErrReidentifyNotAllowed))
	assert.Equal(t, sent, out)
}

func TestLearnRejectsBadJSON(t *testing.T) {
	assert.ErrorIs(t, NewSession(Known{}).Learn([]byte("{")), sdk.ErrInvalid)
}
