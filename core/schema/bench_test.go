package schema

import (
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

const syntheaBob = "../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json"

func BenchmarkParseSynthea(b *testing.B) {
	data, err := os.ReadFile(syntheaBob)
	require.NoError(b, err)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateSynthea(b *testing.B) {
	for _, mode := range []struct {
		name   string
		strict bool
	}{{"default", false}, {"strict", true}} {
		b.Run(mode.name, func(b *testing.B) {
			v, err := New(context.Background(), Config{Strict: mode.strict}, nil)
			require.NoError(b, err)
			data, err := os.ReadFile(syntheaBob)
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
