package openaiapi

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/healthhub/healthhub/plugins/internal/httpx"
	"github.com/healthhub/healthhub/plugins/internal/settings"
	"github.com/healthhub/healthhub/sdk"
)

// Connection contains the settings for reaching an OpenAI-compatible
// service. Plugins embed it in their Config, so its keys sit at the top
// level of the configuration object.
type Connection struct {
	// Endpoint is the API base URL including its version path, such as
	// "https://api.openai.com/v1" or "http://127.0.0.1:11434/v1" for
	// Ollama. Required.
	Endpoint string `json:"endpoint"`
	// APIKey is sent as a bearer token. Prefer APIKeyFile. Default: no key,
	// which local servers such as Ollama accept.
	APIKey string `json:"api_key,omitempty"`
	// APIKeyFile is the path of a file that contains the API key. At most
	// one of APIKey and APIKeyFile may be set.
	APIKeyFile string `json:"api_key_file,omitempty"`

	settings.HTTP

	// DataUse states what the vendor does with the data it receives.
	DataUse settings.DataUse `json:"data_use"`
}

// Service is an opened Connection.
type Service struct {
	Client   *httpx.Client
	Endpoint *url.URL
	// DataUse is the declaration derived from the endpoint and the stated
	// facts.
	DataUse sdk.DataUse
}

// Limits are a plugin's defaults for the settings a configuration may leave
// out, and the stream idle limit, which the plugin configures itself.
type Limits struct {
	Timeout           time.Duration
	MaxResponseBytes  int
	StreamIdleTimeout time.Duration
}

// Open checks the connection settings and builds the HTTP client. It makes
// no network calls.
func (c Connection) Open(plugin string, limits Limits, logger *slog.Logger) (*Service, error) {
	if err := c.HTTP.Validate(plugin); err != nil {
		return nil, err
	}
	if err := c.DataUse.Validate("/data_use", plugin); err != nil {
		return nil, err
	}
	endpoint, err := settings.Endpoint(c.Endpoint, "/endpoint", c.AllowInsecureHTTP, plugin)
	if err != nil {
		return nil, err
	}
	key, err := settings.Secret{Value: c.APIKey, File: c.APIKeyFile, ValuePath: "/api_key", FilePath: "/api_key_file"}.Read(plugin)
	if err != nil {
		return nil, err
	}

	opts := c.HTTP.ClientOptions(limits.Timeout, limits.MaxResponseBytes)
	opts.StreamIdleTimeout = limits.StreamIdleTimeout
	opts.Plugin = plugin
	opts.BaseURL = endpoint
	opts.Logger = logger
	opts.ParseError = ParseError
	opts.Header = http.Header{"Accept": {"application/json"}}
	if key != "" {
		opts.Header.Set("Authorization", "Bearer "+key)
	}
	return &Service{
		Client:   httpx.New(opts),
		Endpoint: endpoint,
		DataUse:  c.DataUse.Declare(endpoint),
	}, nil
}

// errorBody is the error format of the OpenAI API. Some compatible servers
// send "error" as a plain string instead, which ParseError also reads.
type errorBody struct {
	Error json.RawMessage `json:"error"`
}

type errorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"`
}

// ParseError extracts the message of an OpenAI-style error body, for
// httpx.Options.ParseError. The message is the vendor's text; it names
// models and limits, not request content.
func ParseError(_ int, body []byte) (string, []sdk.Issue) {
	var parsed errorBody
	if json.Unmarshal(body, &parsed) != nil || len(parsed.Error) == 0 {
		return firstLine(body), nil
	}
	var detail errorDetail
	if json.Unmarshal(parsed.Error, &detail) == nil && detail.Message != "" {
		return detail.Message, nil
	}
	var text string
	if json.Unmarshal(parsed.Error, &text) == nil {
		return text, nil
	}
	return firstLine(body), nil
}

func firstLine(body []byte) string {
	text := strings.TrimSpace(string(body))
	if i := strings.IndexAny(text, "\r\n"); i >= 0 {
		text = text[:i]
	}
	return text
}

// modelList is the body of GET /models.
type modelList struct {
	Data []struct {
		ID string `json:"id"`
	} `json:"data"`
}

// CheckModel fetches the service's model list and returns an error when
// the service is unreachable or does not list model. A service that lists
// no models at all is taken to serve any, as some compatible servers
// return an empty list.
func (s *Service) CheckModel(ctx context.Context, op, model string) error {
	resp, err := s.Client.Do(ctx, httpx.Request{Op: op, Method: http.MethodGet, Path: "models"})
	if err != nil {
		return err
	}
	var list modelList
	if err := json.Unmarshal(resp.Body, &list); err != nil {
		return sdk.Upstreamf(sdk.CodeException, "%s: %s returned a model list that is not valid JSON: %v", op, s.Client.Host(), err)
	}
	if len(list.Data) == 0 {
		return nil
	}

	ids := make([]string, 0, len(list.Data))
	for _, entry := range list.Data {
		ids = append(ids, entry.ID)
	}
	if slices.Contains(ids, model) {
		return nil
	}
	return sdk.Upstreamf(sdk.CodeNotFound, "%s: %s does not serve model %q; set model to one of %s", op, s.Client.Host(), model, listSample(ids))
}

// listSample quotes up to ten ids, for messages.
func listSample(ids []string) string {
	shown := ids
	if len(shown) > 10 {
		shown = shown[:10]
	}
	quoted := make([]string, len(shown))
	for i, id := range shown {
		quoted[i] = `"` + id + `"`
	}
	text := strings.Join(quoted, ", ")
	if len(ids) > len(shown) {
		text += ", …"
	}
	return text
}
