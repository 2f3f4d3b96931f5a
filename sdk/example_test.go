package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// upperModel replies with the last message in upper case.
type upperModel struct{}

func (upperModel) Chat(_ context.Context, req sdk.ChatRequest) (*sdk.ChatResponse, error) {
	if len(req.Messages) == 0 {
		return nil, sdk.Invalidf("/messages", "chat: messages is empty")
	}
	last := req.Messages[len(req.Messages)-1].Content
	return &sdk.ChatResponse{Message: sdk.ChatMessage{Role: sdk.RoleAssistant, Content: strings.ToUpper(last)}}, nil
}

// A plugin binary's main passes its provider to sdk.Serve. ServeLoopback
// serves it the same way inside the current process, which is how tests
// reach a provider through the real wire protocol.
func ExampleServeLoopback() {
	provider := sdk.Provider{
		Info:      sdk.Info{Name: "upper", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}},
		ChatModel: upperModel{},
	}
	remote, stop, err := sdk.ServeLoopback(context.Background(), provider)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()

	resp, err := remote.ChatModel.Chat(context.Background(), sdk.ChatRequest{
		Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: "hello"}},
	})
	fmt.Println(resp.Message.Content, err)

	_, err = remote.ChatModel.Chat(context.Background(), sdk.ChatRequest{})
	var outcome *sdk.Outcome
	if errors.As(err, &outcome) {
		fmt.Println(outcome.Issues[0].Path, outcome.Issues[0].Source)
	}
	// Output:
	// HELLO <nil>
	// /messages plugin
}

// Intercept runs a hook around every call, as the hub does for deadlines
// and metrics.
func ExampleIntercept() {
	provider := sdk.Provider{
		Info:      sdk.Info{Name: "upper", Version: "1.0.0", Kinds: []sdk.Kind{sdk.KindLLM}},
		ChatModel: upperModel{},
	}
	logged := sdk.Intercept(provider, func(ctx context.Context, call sdk.Call) (context.Context, func(error) error, error) {
		return ctx, func(err error) error {
			fmt.Printf("%s %s.%s error=%v\n", call.Provider, call.Kind, call.Method, err)
			return err
		}, nil
	})
	_, _ = logged.ChatModel.Chat(context.Background(), sdk.ChatRequest{Messages: []sdk.ChatMessage{{Role: sdk.RoleUser, Content: "hi"}}})
	// Output:
	// upper llm.Chat error=<nil>
}
