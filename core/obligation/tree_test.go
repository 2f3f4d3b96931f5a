package obligation

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every example resource survives a parse and write unchanged: same
// members in the same order, numbers as written.
func TestTreeRoundTripKeepsOrderAndNumbers(t *testing.T) {
	files := append(testdataFiles(t, "fhir-r4-examples/*.json"), testdataFiles(t, "synthea-r4/*.json")...)
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in := readTestdata(t, strings.TrimPrefix(file, filepath.Join("..", "..", "testdata")+"/"))
			n, err := parseJSON(in)
			require.NoError(t, err)
			out := appendJSON(nil, n)
			assert.Equal(t, tokens(t, in), tokens(t, out))
		})
	}
}

func TestTreeNumbersAsWritten(t *testing.T) {
	in := `{"a":0.0,"b":29.0,"c":9007199254740993,"d":1e400,"e":-0.5E-3,"f":[1.10,2]}`
	n, err := parseJSON([]byte(in))
	require.NoError(t, err)
	assert.Equal(t, in, string(appendJSON(nil, n)))
}

func TestTreeStrings(t *testing.T) {
	in := `{"div":"<div>a & b</div>","q":"say \"hi\"\\","c":"\u0001\n\t\r","u":"é \u2028"}`
	n, err := parseJSON([]byte(in))
	require.NoError(t, err)
	out := string(appendJSON(nil, n))
	assert.Equal(t, `{"div":"<div>a & b</div>","q":"say \"hi\"\\","c":"\u0001\n\t\r","u":"é \u2028"}`, out)
}

func TestTreeRejectsBadJSON(t *testing.T) {
	for _, in := range []string{``, `{`, `{"a":}`, `{"a":1} {"b":2}`, strings.Repeat("[", maxDepth+2) + strings.Repeat("]", maxDepth+2)} {
		_, err := parseJSON([]byte(in))
		assert.Error(t, err, in)
	}
}
