package api

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"mime"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// wavTypes are the media types of WAV audio.
var wavTypes = map[string]bool{"audio/wav": true, "audio/x-wav": true, "audio/wave": true, "audio/vnd.wave": true}

func isWAV(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	return err == nil && wavTypes[mediaType]
}

// maxWAVChunk bounds a chunk before the audio data that is read into
// memory (fmt, fact) or skipped (LIST and other metadata).
const maxWAVChunk = 16 << 20

// streamingSize is the RIFF and data size of WAV whose length was not
// known when it was written.
const streamingSize = 0xFFFFFFFF

// wavHeader is the content of the chunks before a WAV file's audio data.
type wavHeader struct {
	// formatChunks are the fmt and fact chunks, with their headers, in
	// order.
	formatChunks []byte
	// dropped counts the metadata chunks left out, such as LIST/INFO
	// with a title, artist or comment.
	dropped  int
	byteRate uint32
	dataSize uint32
}

// readWAVHeader reads a RIFF WAVE stream up to the start of its data
// chunk, keeping the format chunks and skipping every other one.
func readWAVHeader(r io.Reader) (*wavHeader, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil || string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return nil, sdk.Invalidf("", "read WAV audio: no RIFF WAVE header: send WAV audio or name its content type")
	}
	h := &wavHeader{}
	for {
		var chunk [8]byte
		if _, err := io.ReadFull(r, chunk[:]); err != nil {
			return nil, sdk.Invalidf("", "read WAV audio: the file ends before its data chunk")
		}
		id, size := string(chunk[0:4]), binary.LittleEndian.Uint32(chunk[4:8])
		if id == "data" {
			h.dataSize = size
			return h, nil
		}
		if size > maxWAVChunk {
			return nil, sdk.Invalidf("", "read WAV audio: chunk %q of %d bytes is larger than %d bytes", printable(id), size, maxWAVChunk)
		}
		padded := int64(size) + int64(size&1)
		if id != "fmt " && id != "fact" {
			if _, err := io.CopyN(io.Discard, r, padded); err != nil {
				return nil, sdk.Invalidf("", "read WAV audio: chunk %q is cut short", printable(id))
			}
			h.dropped++
			continue
		}
		body := make([]byte, padded)
		if _, err := io.ReadFull(r, body); err != nil {
			return nil, sdk.Invalidf("", "read WAV audio: chunk %q is cut short", printable(id))
		}
		if id == "fmt " && size >= 16 {
			h.byteRate = binary.LittleEndian.Uint32(body[8:12])
		}
		h.formatChunks = append(append(h.formatChunks, chunk[:]...), body...)
	}
}

// duration is the length of the audio, or 0 when the header does not
// tell it.
func (h *wavHeader) duration() time.Duration {
	if h.byteRate == 0 || h.dataSize == streamingSize {
		return 0
	}
	return time.Duration(float64(h.dataSize) / float64(h.byteRate) * float64(time.Second))
}

// stripWAVMetadata returns the WAV audio of r with only its format and
// data chunks: LIST/INFO, ID3, bext, iXML and every other chunk, before
// or after the data, is left out, because such chunks may name the
// patient. The samples pass unchanged.
func stripWAVMetadata(r io.Reader) (io.Reader, int, error) {
	h, err := readWAVHeader(r)
	if err != nil {
		return nil, 0, err
	}
	if !bytes.Contains(h.formatChunks, []byte("fmt ")) {
		return nil, 0, sdk.Invalidf("", "read WAV audio: no fmt chunk before the data")
	}
	riffSize := uint32(streamingSize)
	if h.dataSize != streamingSize {
		total := uint64(4+len(h.formatChunks)+8) + uint64(h.dataSize) + uint64(h.dataSize&1)
		if total >= streamingSize {
			return nil, 0, errors.New("read WAV audio: the file is larger than RIFF allows")
		}
		riffSize = uint32(total)
	}
	var head bytes.Buffer
	head.WriteString("RIFF")
	_ = binary.Write(&head, binary.LittleEndian, riffSize)
	head.WriteString("WAVE")
	head.Write(h.formatChunks)
	head.WriteString("data")
	_ = binary.Write(&head, binary.LittleEndian, h.dataSize)

	data := r
	if h.dataSize != streamingSize {
		data = io.LimitReader(r, int64(h.dataSize)+int64(h.dataSize&1))
	}
	return io.MultiReader(&head, data), h.dropped, nil
}

// printable quotes a chunk id for a message, whatever bytes it holds.
func printable(id string) string { return fmt.Sprintf("%q", id)[1 : len(fmt.Sprintf("%q", id))-1] }
