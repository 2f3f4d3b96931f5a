package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/healthhub/healthhub/schemas"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

const (
	syntheaBob     = "../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json"
	syntheaCecelia = "../../testdata/synthea-r4/Cecelia952_Romaguera67_f1731e33-dc55-4ee8-72d7-cece2e49bedd.json"
	patientExample = "../../testdata/fhir-r4-examples/Patient-example.json"
)

// compactPatient returns the FHIR Patient example without whitespace,
// about 2 KB.
func compactPatient(b *testing.B) []byte {
	data, err := os.ReadFile(patientExample)
	require.NoError(b, err)
	var buf bytes.Buffer
	require.NoError(b, json.Compact(&buf, data))
	return buf.Bytes()
}

func BenchmarkParseSynthea(b *testing.B) {
	data, err := os.ReadFile(syntheaBob)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateSynthea validates a whole Synthea bundle, parsing
// included, as the daemon does for a request body.
func BenchmarkValidateSynthea(b *testing.B) {
	for _, bundle := range []struct{ name, file string }{{"Bob965", syntheaBob}, {"Cecelia952", syntheaCecelia}} {
		for _, mode := range []struct {
			name   string
			strict bool
		}{{"default", false}, {"strict", true}} {
			b.Run(bundle.name+"/"+mode.name, func(b *testing.B) {
				v, err := New(context.Background(), Config{Strict: mode.strict}, nil)
				require.NoError(b, err)
				data, err := os.ReadFile(bundle.file)
				require.NoError(b, err)
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					if err := v.Validate(context.Background(), "Bundle", data); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkPatient compares, on the same 2 KB Patient: the hub with
// parsing, the hub on a parsed document, and the bare jsonschema library on
// the same parsed document with an equivalent single-file schema.
func BenchmarkPatient(b *testing.B) {
	data := compactPatient(b)
	doc, err := Parse(data)
	require.NoError(b, err)
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(b, err)

	b.Run("hub/parse+validate", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := v.Validate(context.Background(), "Patient", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("hub/validate", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := v.ValidateDocument(context.Background(), "Patient", doc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare/validate", func(b *testing.B) {
		sch := bareSingleFileSchema(b, "Patient")
		b.SetBytes(int64(len(data)))
		b.ReportAllocs()
		for b.Loop() {
			if err := sch.Validate(doc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPatientOverhead runs the hub and the bare library in alternate
// iterations on the same parsed Patient and reports each one's time per
// validation and their ratio. Alternating keeps the ratio meaningful when
// other processes load the machine unevenly during the run.
func BenchmarkPatientOverhead(b *testing.B) {
	doc, err := Parse(compactPatient(b))
	require.NoError(b, err)
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(b, err)
	sch := bareSingleFileSchema(b, "Patient")

	var hub, bare time.Duration
	for b.Loop() {
		start := time.Now()
		if err := sch.Validate(doc); err != nil {
			b.Fatal(err)
		}
		mid := time.Now()
		if err := v.ValidateDocument(context.Background(), "Patient", doc); err != nil {
			b.Fatal(err)
		}
		hub += time.Since(mid)
		bare += mid.Sub(start)
	}
	b.ReportMetric(float64(hub.Nanoseconds())/float64(b.N), "hub-ns/op")
	b.ReportMetric(float64(bare.Nanoseconds())/float64(b.N), "bare-ns/op")
	b.ReportMetric(float64(hub)/float64(bare), "hub/bare")
}

// bareSingleFileSchema compiles the hub's schema of a resource type as one
// document, with the datatypes copied into its $defs, using the jsonschema
// library alone: the same fhir-* formats, no hub vocabulary, no invariants
// and no issue conversion. Without the vocabulary the library ignores the
// fhirChoice keyword, which costs the hub a few map lookups per object.
func bareSingleFileSchema(b *testing.B, rt string) *jsonschema.Schema {
	load := func(name string) map[string]any {
		raw, err := schemas.FS.ReadFile("fhir/" + name + ".schema.json")
		require.NoError(b, err)
		text := strings.ReplaceAll(string(raw), `"datatypes.schema.json#/$defs/`, `"#/$defs/`)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(text))
		require.NoError(b, err)
		return doc.(map[string]any)
	}
	single := load(rt)
	defs, _ := single["$defs"].(map[string]any)
	if defs == nil {
		defs = map[string]any{}
		single["$defs"] = defs
	}
	for name, def := range load("datatypes")["$defs"].(map[string]any) {
		defs[name] = def
	}

	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, f := range fhirFormats() {
		c.RegisterFormat(f)
	}
	require.NoError(b, c.AddResource("single.json", single))
	sch, err := c.Compile("single.json")
	require.NoError(b, err)
	return sch
}
