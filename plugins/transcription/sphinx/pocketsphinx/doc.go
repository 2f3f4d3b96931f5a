// Package pocketsphinx is the transcription provider
// "transcription-sphinx": offline speech recognition on the hub's own
// machine with CMU PocketSphinx, for deployments where audio must not leave
// the building.
//
// Each request runs one pocketsphinx_continuous process (Debian packages
// pocketsphinx and pocketsphinx-en-us, version 0.8+5prealpha). The WAV
// audio is decoded, mixed down to mono and resampled to the 16 kHz the
// acoustic model needs in Go, and streamed to the process's standard input
// as raw PCM, so no temporary file is written. The process prints each
// utterance as soon as its voice activity detector sees the end of it, and
// the provider turns each into a segment with the start and end times and
// the mean word posterior as its confidence.
//
// The provider runs the command-line decoder rather than linking
// libpocketsphinx through cgo: the plugin binary builds without a C
// toolchain, a crash or a hang in the decoder cannot take the plugin down,
// and cancelling a request kills the process. The cost is loading the
// models once per request: 0.3 s for en-us on a 2-core machine.
package pocketsphinx
