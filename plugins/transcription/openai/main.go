// Command transcription-openai is the OpenAI-compatible speech-to-text
// plugin: package openaistt served over the HealthHub plugin protocol. The
// hub launches it and configures it with openaistt.Config as JSON, checked
// against config.schema.json by the hub and again by the plugin.
package main

import (
	"github.com/healthhub/healthhub/plugins/transcription/openai/openaistt"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{Info: openaistt.Info(), Transcriber: openaistt.New(sdk.NewPluginLogger())})
}
