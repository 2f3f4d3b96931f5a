package pocketsphinx

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

// conformanceCase is the recording the sdktest suite transcribes: natural
// read speech that the en-us model gets mostly right (see
// TestTranscribeTestdataClips).
func conformanceCase(t *testing.T) sdktest.TranscriptionCase {
	return sdktest.TranscriptionCase{
		Audio:       openAudio(t, "sense_and_sensibility_01_austen_64kb-0880.wav"),
		ContentType: "audio/wav",
		Language:    "en-US",
		WantText:    []string{"young man"},
	}
}

func TestConformanceInProcess(t *testing.T) {
	requireSphinx(t)
	sdktest.Transcription(t, func(t *testing.T) sdk.Transcriber {
		return newTestTranscriber(t, Config{})
	}, conformanceCase(t))
}

func TestConformanceOverGRPC(t *testing.T) {
	requireSphinx(t)
	remote := sdktest.Loopback(t, sdk.Provider{Info: Info(), Transcriber: newTestTranscriber(t, Config{})})
	_, streams := remote.Transcriber.(sdk.StreamingTranscriber)
	require.True(t, streams, "the stream capability reaches the host")
	sdktest.Transcription(t, func(*testing.T) sdk.Transcriber { return remote.Transcriber }, conformanceCase(t))
}
