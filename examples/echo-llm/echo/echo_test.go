package echo_test

import (
	"testing"

	"github.com/healthhub/healthhub/examples/echo-llm/echo"
	"github.com/healthhub/healthhub/sdk"
	"github.com/healthhub/healthhub/sdk/sdktest"
)

func chatCase() sdktest.ChatCase {
	return sdktest.ChatCase{
		Request: sdk.ChatRequest{Messages: []sdk.ChatMessage{
			{Role: sdk.RoleSystem, Content: "You repeat what you are told."},
			{Role: sdk.RoleUser, Content: "the quick brown fox jumps over the lazy dog"},
		}},
		WantContent: []string{"echo: the quick brown fox"},
	}
}

func TestChatSuite(t *testing.T) {
	sdktest.Chat(t, func(*testing.T) sdk.ChatModel { return echo.New() }, chatCase())
}

func TestChatSuiteOverTheWire(t *testing.T) {
	sdktest.Chat(t, func(t *testing.T) sdk.ChatModel {
		return sdktest.Loopback(t, sdk.Provider{Info: echo.Info(), ChatModel: echo.New()}).ChatModel
	}, chatCase())
}
