package openaichat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/sdk"
)

// benchmarkRequest is a short clinical prompt; the test server echoes it,
// so the reply has 12 tokens.
var benchmarkRequest = userRequest("summarise the potassium trend over the last three visits")

func benchmarkServer(b *testing.B) (*openaitest.Server, *Model) {
	b.Helper()
	server := openaitest.New(testKey, testModel)
	b.Cleanup(server.Close)
	m, err := Open(testConfig(server), nil)
	if err != nil {
		b.Fatal(err)
	}
	return server, m
}

// directChat posts a prepared body with a bare net/http client and decodes
// the reply, the least a caller without the plugin would do.
func directChat(b *testing.B, client *http.Client, url string, body []byte, stream bool) {
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	// Draining the body lets the client reuse the connection, as the
	// plugin's client does.
	defer func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	if !stream {
		var parsed completion
		if err := json.NewDecoder(resp.Body).Decode(&parsed); err != nil || len(parsed.Choices) == 0 {
			b.Fatalf("decode: %v", err)
		}
		return
	}
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		line := scanner.Bytes()
		if bytes.Equal(line, []byte("data: [DONE]")) {
			return
		}
		if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
			var parsed chunk
			if err := json.Unmarshal(data, &parsed); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Fatal("stream ended without [DONE]")
}

func BenchmarkChat(b *testing.B) {
	server, m := benchmarkServer(b)
	ctx := context.Background()

	b.Run("plugin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.Chat(ctx, benchmarkRequest); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		body, _ := json.Marshal(completionRequest{Model: testModel, Messages: benchmarkRequest.Messages})
		client := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			directChat(b, client, server.BaseURL()+"/chat/completions", body, false)
		}
	})
}

func BenchmarkChatStream(b *testing.B) {
	server, m := benchmarkServer(b)
	ctx := context.Background()
	discard := func(sdk.ChatDelta) error { return nil }

	b.Run("plugin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := m.ChatStream(ctx, benchmarkRequest, discard); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		body, _ := json.Marshal(completionRequest{Model: testModel, Messages: benchmarkRequest.Messages, Stream: true, StreamOptions: &streamOptions{IncludeUsage: true}})
		client := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			directChat(b, client, server.BaseURL()+"/chat/completions", body, true)
		}
	})
}
