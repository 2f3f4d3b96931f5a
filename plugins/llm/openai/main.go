// Command llm-openai is the OpenAI-compatible chat plugin: package
// openaichat served over the HealthHub plugin protocol. The hub launches
// it and configures it with openaichat.Config as JSON, checked against
// config.schema.json by the hub and again by the plugin.
package main

import (
	"github.com/healthhub/healthhub/plugins/llm/openai/openaichat"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{Info: openaichat.Info(), ChatModel: openaichat.New(sdk.NewPluginLogger())})
}
