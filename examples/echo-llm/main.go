// Command echo-llm is a minimal HealthHub plugin: the echo chat model of
// package echo served over the plugin protocol. See docs/plugins.md.
package main

import (
	"github.com/healthhub/healthhub/examples/echo-llm/echo"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{Info: echo.Info(), ChatModel: echo.New()})
}
