package policy

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/stretchr/testify/require"
)

var decisionTime = time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)

func clinicianRead() *Input {
	return &Input{
		Subject: Subject{
			ID: "Practitioner/f001", Roles: []string{"clinician"}, Tenant: "north",
			Scopes: []string{"openid", "fhirUser", "user/*.cruds"}, PurposeOfUse: "TREAT",
		},
		Action:   "read",
		Resource: Resource{Type: "Observation", ID: "example", Tenant: "north", Patient: "Patient/example"},
		Context:  Context{Time: decisionTime, RequestID: "req-1"},
	}
}

func breakGlassRead() *Input {
	in := clinicianRead()
	in.Resource.Tenant = "south"
	in.Resource.SecurityLabels = []Coding{{System: "http://terminology.hl7.org/CodeSystem/v3-ActCode", Code: "PSY"}}
	in.Subject.PurposeOfUse = "ETREAT"
	in.Subject.BreakGlass = &BreakGlass{
		Reason:    "patient unconscious in the emergency department, history needed",
		StartedAt: decisionTime.Add(-10 * time.Minute),
	}
	return in
}

// benchConfig is the configuration of the benchmarks, embedded and
// sidecar alike: the defaults, with the region of the chat provider allowed.
var benchConfig = Config{AllowedRegions: []string{"us-east-1"}}

func benchEngine(b *testing.B) *Engine {
	b.Helper()
	return newEngine(b, benchConfig)
}

// benchCases are the decisions the benchmarks measure, all allowed: a
// clinician read, a break-glass read of a labelled resource of another
// tenant, and a chat sent to a provider without a BAA, which carries the
// de-identification obligations.
func benchCases() []struct {
	name  string
	input *Input
} {
	return []struct {
		name  string
		input *Input
	}{
		{"clinician_read", clinicianRead()},
		{"break_glass", breakGlassRead()},
		{"chat_no_baa", chatInput(cloudNoBAA)},
	}
}

// latencies collects per-call durations, so that benchmarks report the
// median and the 1st and 99th percentiles besides Go's mean: a few garbage
// collections or a busy machine move the mean far more than the median.
type latencies []time.Duration

func (l *latencies) add(start time.Time) { *l = append(*l, time.Since(start)) }

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	// The fastest percent approximates the cost of a decision that no other
	// process interrupted.
	b.ReportMetric(float64(l[len(l)/100].Nanoseconds()), "p1-ns")
	b.ReportMetric(float64(l[len(l)/2].Nanoseconds()), "median-ns")
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkDecide(b *testing.B) {
	e := benchEngine(b)
	ctx := context.Background()
	for _, tc := range benchCases() {
		b.Run(tc.name, func(b *testing.B) {
			d, err := e.Decide(ctx, tc.input)
			require.NoError(b, err)
			require.True(b, d.Allow, "%+v", d.Reasons)
			b.ReportAllocs()
			var samples latencies
			cpu := startCPUMeter(b, 0)
			for b.Loop() {
				start := time.Now()
				if _, err := e.Decide(ctx, tc.input); err != nil {
					b.Fatal(err)
				}
				samples.add(start)
			}
			cpu.report(b)
			samples.report(b)
		})
	}
}

// BenchmarkInputConversion compares the two ways to hand the input to OPA:
// a pre-built ast.Value (rego.EvalParsedInput, what Decide does) and a map
// that OPA converts itself (rego.EvalInput). Each iteration converts the
// typed Input and evaluates the decision.
func BenchmarkInputConversion(b *testing.B) {
	e := benchEngine(b)
	set := e.current.Load()
	ctx := context.Background()
	in := clinicianRead()
	b.Run("ast_value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			v, err := in.ASTValue()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := set.query.Eval(ctx, rego.EvalParsedInput(v)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m, err := in.Map()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := set.query.Eval(ctx, rego.EvalInput(m)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
