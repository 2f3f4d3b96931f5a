package dicomreader

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
)

// pluginManifest is the part of manifest.json this package must agree
// with.
type pluginManifest struct {
	Name            string          `json:"name"`
	Version         string          `json:"version"`
	Kinds           []sdk.Kind      `json:"kinds"`
	ProtocolVersion int             `json:"protocol_version"`
	ConfigSchema    string          `json:"config_schema"`
	DefaultConfig   json.RawMessage `json:"default_config"`
}

func TestManifestMatchesInfo(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "manifest.json"))
	require.NoError(t, err)
	var m pluginManifest
	require.NoError(t, json.Unmarshal(data, &m))

	info := Info()
	assert.Equal(t, info.Name, m.Name)
	assert.Equal(t, info.Version, m.Version)
	assert.Equal(t, info.Kinds, m.Kinds)
	assert.Equal(t, sdk.ProtocolVersion, m.ProtocolVersion)
	assert.NoError(t, (&Reader{}).Configure(context.Background(), m.DefaultConfig), "the default configuration is accepted")

	schemaData, err := os.ReadFile(filepath.Join("..", m.ConfigSchema))
	require.NoError(t, err)
	var schema struct {
		Properties           map[string]json.RawMessage `json:"properties"`
		AdditionalProperties bool                       `json:"additionalProperties"`
	}
	require.NoError(t, json.Unmarshal(schemaData, &schema))
	assert.False(t, schema.AdditionalProperties)

	var documented []string
	for name := range schema.Properties {
		documented = append(documented, name)
	}
	var fields []string
	for field := range reflect.TypeFor[Config]().Fields() {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		fields = append(fields, name)
	}
	slices.Sort(documented)
	slices.Sort(fields)
	assert.Equal(t, fields, documented, "config.schema.json lists every Config field and no other")
}
