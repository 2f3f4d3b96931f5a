package openaistt

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"

	"github.com/healthhub/healthhub/plugins/internal/openaitest"
	"github.com/healthhub/healthhub/sdk"
)

// BenchmarkTranscribe uploads the 150 KB espeak clip through the plugin and
// with a bare net/http multipart request.
func BenchmarkTranscribe(b *testing.B) {
	audio := readClip(b, espeakClip)
	server := openaitest.New(testKey, testModel)
	b.Cleanup(server.Close)
	server.AddTranscript(sha(audio), espeakClip.transcript)
	tr, err := Open(testConfig(server), nil)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	b.Run("plugin", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := tr.Transcribe(ctx, sdk.TranscriptionRequest{Audio: bytes.NewReader(audio), ContentType: "audio/wav"}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct", func(b *testing.B) {
		client := &http.Client{}
		b.ReportAllocs()
		for b.Loop() {
			directTranscribe(b, client, server.BaseURL()+"/audio/transcriptions", audio)
		}
	})
}

func directTranscribe(b *testing.B, client *http.Client, url string, audio []byte) {
	var body bytes.Buffer
	form := multipart.NewWriter(&body)
	form.WriteField("model", testModel)
	form.WriteField("response_format", "verbose_json")
	form.WriteField("timestamp_granularities[]", "segment")
	file, _ := form.CreateFormFile("file", "audio.wav")
	file.Write(audio)
	form.Close()

	req, _ := http.NewRequest(http.MethodPost, url, &body)
	req.Header.Set("Authorization", "Bearer "+testKey)
	req.Header.Set("Content-Type", form.FormDataContentType())
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}()
	var parsed verboseTranscript
	if err := json.NewDecoder(resp.Body).Decode(&parsed); err != nil || parsed.Text == "" {
		b.Fatalf("decode: %v", err)
	}
}
