package api

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/obligation"
	"github.com/healthhub/healthhub/core/policy"
	"github.com/healthhub/healthhub/sdk"
)

// pseudonymizingCall returns a provider call whose session has made tokens
// for the phone numbers in text, and the text with the tokens.
func pseudonymizingCall(t *testing.T, text string, reidentify bool) (*providerCall, string) {
	t.Helper()
	ob := policy.Obligations{ScrubText: []policy.ScrubRule{{Path: "Communication.payload", Replace: policy.ReplacePseudonymize, Rule: "egress.deidentify"}}, Reidentify: reidentify}
	session := obligation.NewSession(obligation.Known{})
	scrubbed, _ := session.ApplyText(ob, text)
	require.NotEqual(t, text, scrubbed)
	call := &providerCall{req: &request{obligations: session}, decision: policy.Decision{Allow: true, Obligations: ob}}
	return call, scrubbed
}

// replay pushes text through a restorer in pieces of size n and returns
// the text the client receives.
func replay(call *providerCall, text string, n int) string {
	restorer := newStreamRestorer(call)
	var out strings.Builder
	for start := 0; start < len(text); start += n {
		out.WriteString(restorer.push(text[start:min(start+n, len(text))]))
	}
	out.WriteString(restorer.flush())
	return out.String()
}

func TestStreamRestorerMapsSplitTokens(t *testing.T) {
	original := "Call 617-555-0199 or 617-555-0142, then write back."
	call, reply := pseudonymizingCall(t, original, true)
	for n := 1; n <= len(reply); n++ {
		assert.Equal(t, original, replay(call, reply, n), "pieces of %d bytes", n)
	}

	tests := []struct {
		name  string
		reply string
	}{
		{"token then hex digits", strings.Fields(reply)[1] + "cafe12"},
		{"hex run before a token", "deadbeef-" + strings.Fields(reply)[1]},
		{"unknown token", "7d0e3a52-1f4b-4c1d-9a6e-2b8f0c3d4e5f"},
		{"no token", "plain words only"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want, _, err := call.req.obligations.Restore(call.decision.Obligations, tc.reply)
			require.NoError(t, err)
			for n := 1; n <= len(tc.reply); n++ {
				assert.Equal(t, want, replay(call, tc.reply, n), "pieces of %d bytes", n)
			}
		})
	}
}

func TestStreamRestorerKeepsTokensWithoutReidentify(t *testing.T) {
	call, reply := pseudonymizingCall(t, "Call 617-555-0199.", false)
	assert.Equal(t, reply, replay(call, reply, 3), "the tokens reach the client as they are")
	assert.NotContains(t, replay(call, reply, 5), "617-555-0199")
}

// wavFile builds a RIFF WAVE file of the given chunks.
func wavFile(chunks ...[2]string) []byte {
	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, chunk := range chunks {
		body.WriteString(chunk[0])
		_ = binary.Write(&body, binary.LittleEndian, uint32(len(chunk[1])))
		body.WriteString(chunk[1])
		if len(chunk[1])%2 == 1 {
			body.WriteByte(0)
		}
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// pcmFormat is a 16 kHz mono 16-bit PCM fmt chunk.
var pcmFormat = string([]byte{1, 0, 1, 0, 0x80, 0x3e, 0, 0, 0, 0x7d, 0, 0, 2, 0, 16, 0})

func TestStripWAVMetadata(t *testing.T) {
	samples := strings.Repeat("\x01\x02", 800)
	clean := wavFile([2]string{"fmt ", pcmFormat}, [2]string{"data", samples})
	tests := []struct {
		name    string
		input   []byte
		dropped int
	}{
		{"clean file unchanged", clean, 0},
		{"LIST before data", wavFile([2]string{"fmt ", pcmFormat}, [2]string{"LIST", "INFOINAM\x0b\x00\x00\x00Jane Doe X\x00"}, [2]string{"data", samples}), 1},
		{"odd chunk and trailing id3", wavFile([2]string{"bext", "odd"}, [2]string{"fmt ", pcmFormat}, [2]string{"data", samples}, [2]string{"id3 ", "ID3 Jane Doe"}), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, dropped, err := stripWAVMetadata(bytes.NewReader(tc.input))
			require.NoError(t, err)
			got, err := io.ReadAll(out)
			require.NoError(t, err)
			assert.Equal(t, clean, got, "only fmt and data remain, with the RIFF size fixed")
			assert.Equal(t, tc.dropped, dropped)
			assert.NotContains(t, string(got), "Jane Doe")
		})
	}

	header, err := readWAVHeader(bytes.NewReader(clean))
	require.NoError(t, err)
	assert.Equal(t, "50ms", header.duration().String(), "1600 bytes at 32000 bytes per second")
}

func TestStripWAVMetadataRejectsBadAudio(t *testing.T) {
	clean := wavFile([2]string{"fmt ", pcmFormat}, [2]string{"data", "\x00\x00"})
	tests := []struct {
		name  string
		input []byte
	}{
		{"not RIFF", []byte("ID3\x03\x00 mp3 frames")},
		{"cut before data", clean[:30]},
		{"no fmt chunk", wavFile([2]string{"data", "\x00\x00"})},
		{"empty", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := stripWAVMetadata(bytes.NewReader(tc.input))
			assert.ErrorIs(t, err, sdk.ErrInvalid)
		})
	}
}

func TestReencodeImageDropsTextChunks(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 4, 4))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 16)
	}
	var plain bytes.Buffer
	require.NoError(t, png.Encode(&plain, img))
	data := plain.Bytes()
	text := []byte("Author\x00Jane Doe")
	var chunk bytes.Buffer
	_ = binary.Write(&chunk, binary.BigEndian, uint32(len(text)))
	chunk.WriteString("tEXt")
	chunk.Write(text)
	_ = binary.Write(&chunk, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("tEXt"), text...)))
	tagged := append(append(append([]byte{}, data[:33]...), chunk.Bytes()...), data[33:]...)
	require.Contains(t, string(tagged), "Jane Doe")

	out, err := reencodeImage(bytes.NewReader(tagged), "image/png")
	require.NoError(t, err)
	clean, err := io.ReadAll(out)
	require.NoError(t, err)
	assert.NotContains(t, string(clean), "Jane Doe")
	decoded, err := png.Decode(bytes.NewReader(clean))
	require.NoError(t, err)
	assert.Equal(t, img.Pix, decoded.(*image.Gray).Pix, "the pixels are kept")

	_, err = reencodeImage(strings.NewReader("not an image"), "image/png")
	assert.ErrorIs(t, err, sdk.ErrInvalid)
}
