package schema

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPointerEscapes(t *testing.T) {
	tests := []struct {
		tokens []string
		want   string
	}{
		{nil, ""},
		{[]string{"name", "0", "given", "1"}, "/name/0/given/1"},
		{[]string{"a/b"}, "/a~1b"},
		{[]string{"a~b"}, "/a~0b"},
		{[]string{"~/"}, "/~0~1"},
		{[]string{""}, "/"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, pointer(tc.tokens))
		})
	}
}

func TestExpressionFromDocument(t *testing.T) {
	doc := map[string]any{
		"name": []any{map[string]any{"given": []any{"a", "b"}}},
		"entry": []any{
			map[string]any{"resource": map[string]any{"resourceType": "Patient"}},
		},
		"0":   map[string]any{},
		"a b": true,
	}
	tests := []struct {
		tokens []string
		want   string
	}{
		{nil, "Patient"},
		{[]string{"name", "0", "given", "1"}, "Patient.name[0].given[1]"},
		{[]string{"entry", "0", "resource", "id"}, "Patient.entry[0].resource.id"},
		{[]string{"0"}, "Patient.`0`"},
		{[]string{"a b"}, "Patient.`a b`"},
		{[]string{"missing", "0"}, "Patient.missing.`0`"},
		{[]string{"_given"}, "Patient._given"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, expression("Patient", doc, tc.tokens))
		})
	}
	assert.Equal(t, "name[0]", expression("", doc, []string{"name", "0"}))
	assert.Equal(t, "`a\\`b`", expression("", doc, []string{"a`b"}))
}
