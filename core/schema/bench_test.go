package schema

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"runtime"
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
	cpu := processCPU()
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
	reportCPU(b, processCPU()-cpu)
}

// BenchmarkValidateSynthea validates a whole Synthea bundle, parsing
// included, as the daemon does for a request body.
func BenchmarkValidateSynthea(b *testing.B) {
	for _, bundle := range []struct{ name, file string }{{"Bob965", syntheaBob}, {"Cecelia952", syntheaCecelia}} {
		for _, mode := range []struct {
			name string
			cfg  Config
		}{
			{"default", Config{}},
			{"default-sequential", Config{Parallelism: 1}},
			{"strict", Config{Strict: true}},
		} {
			b.Run(bundle.name+"/"+mode.name, func(b *testing.B) {
				v, err := New(context.Background(), mode.cfg, nil)
				require.NoError(b, err)
				data, err := os.ReadFile(bundle.file)
				require.NoError(b, err)
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				cpu := processCPU()
				for b.Loop() {
					if err := v.Validate(context.Background(), "Bundle", data); err != nil {
						b.Fatal(err)
					}
				}
				reportCPU(b, processCPU()-cpu)
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
// iterations on the same parsed Patient, swapping which goes first, and
// reports each one's wall and thread CPU time per validation and their
// ratios. Alternating keeps the ratio meaningful when other processes load
// the machine unevenly during the run, and CPU time leaves out the time the
// thread waited for a core.
func BenchmarkPatientOverhead(b *testing.B) {
	doc, err := Parse(compactPatient(b))
	require.NoError(b, err)
	v, err := New(context.Background(), Config{}, nil)
	require.NoError(b, err)
	sch := bareSingleFileSchema(b, "Patient")

	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var hubWall, bareWall, hubCPU, bareCPU time.Duration
	measure := func(wall, cpu *time.Duration, validate func() error) {
		startCPU, start := threadCPU(), time.Now()
		if err := validate(); err != nil {
			b.Fatal(err)
		}
		*wall += time.Since(start)
		*cpu += threadCPU() - startCPU
	}
	hub := func() error { return v.ValidateDocument(context.Background(), "Patient", doc) }
	bare := func() error { return sch.Validate(doc) }
	odd := false
	for b.Loop() {
		if odd {
			measure(&hubWall, &hubCPU, hub)
			measure(&bareWall, &bareCPU, bare)
		} else {
			measure(&bareWall, &bareCPU, bare)
			measure(&hubWall, &hubCPU, hub)
		}
		odd = !odd
	}
	n := float64(b.N)
	b.ReportMetric(float64(hubWall.Nanoseconds())/n, "hub-ns/op")
	b.ReportMetric(float64(bareWall.Nanoseconds())/n, "bare-ns/op")
	b.ReportMetric(float64(hubWall)/float64(bareWall), "hub/bare")
	if bareCPU > 0 {
		b.ReportMetric(float64(hubCPU.Nanoseconds())/n, "hub-cpu-ns/op")
		b.ReportMetric(float64(bareCPU.Nanoseconds())/n, "bare-cpu-ns/op")
		b.ReportMetric(float64(hubCPU)/float64(bareCPU), "hub/bare-cpu")
	}
}

// reportCPU adds the process CPU time per operation, all threads included.
func reportCPU(b *testing.B, cpu time.Duration) {
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
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
