package openaiapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseError(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"openai object", `{"error":{"message":"Rate limit reached for gpt-4o","type":"requests","code":"rate_limit_exceeded"}}`, "Rate limit reached for gpt-4o"},
		{"plain string", `{"error":"model 'llama9' not found, try pulling it first"}`, "model 'llama9' not found, try pulling it first"},
		{"not json", "upstream connect error\nreset reason: overflow", "upstream connect error"},
		{"other json", `{"detail":"Not Found"}`, `{"detail":"Not Found"}`},
		{"empty message", `{"error":{"message":""}}`, `{"error":{"message":""}}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			message, issues := ParseError(400, []byte(tc.body))
			assert.Equal(t, tc.want, message)
			assert.Empty(t, issues)
		})
	}
}

func TestListSample(t *testing.T) {
	assert.Equal(t, `"a", "b"`, listSample([]string{"a", "b"}))
	many := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}
	assert.Equal(t, `"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", …`, listSample(many))
}
