// Command transcription-sphinx is the offline speech recognition plugin:
// package pocketsphinx served over the HealthHub plugin protocol. The hub
// launches it; run on its own it prints a notice and exits.
//
// Its configuration object is pocketsphinx.Config, checked against
// config.schema.json by the hub and again by Configure. The Debian packages
// pocketsphinx and pocketsphinx-en-us must be installed
// (scripts/install-deps.sh).
package main

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/healthhub/healthhub/plugins/transcription/sphinx/pocketsphinx"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{
		Info: pocketsphinx.Info(),
		Transcriber: &loggedTranscriber{
			Transcriber: &pocketsphinx.Transcriber{},
			logger:      sdk.NewPluginLogger(),
		},
	})
}

// loggedTranscriber is the Transcriber the plugin serves: it logs each
// configuration it accepts. It logs no audio and no transcript.
type loggedTranscriber struct {
	*pocketsphinx.Transcriber
	logger *slog.Logger
}

var (
	_ sdk.StreamingTranscriber = loggedTranscriber{}
	_ sdk.Configurer           = loggedTranscriber{}
	_ sdk.HealthChecker        = loggedTranscriber{}
)

// Configure applies config and logs the settings in force.
func (t loggedTranscriber) Configure(ctx context.Context, config json.RawMessage) error {
	if err := t.Transcriber.Configure(ctx, config); err != nil {
		return err
	}
	s := t.Settings()
	t.logger.Info("transcription-sphinx configured", "program", s.Program,
		"acoustic_model", s.AcousticModel, "language", s.Language,
		"max_audio_seconds", s.MaxAudioSeconds, "max_concurrent", s.MaxConcurrent)
	return nil
}
