// Command embedded-hub runs the hub inside a Go program instead of as the
// hub daemon. The program registers a chat model of its own as an
// in-process provider, next to the plugins of the plugin directory, and
// the model then gets the same policy decisions, egress obligations and
// audit events as a plugin.
//
// Run it from the repository root after make build, so that the plugins in
// bin/plugins load too:
//
//	go run ./examples/embedded-hub
//
// It reads the HUB_* variables as hub serve does, prints the address and a
// clinician token, and serves until interrupted.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/healthhub/healthhub/core/api"
	"github.com/healthhub/healthhub/core/auth"
	"github.com/healthhub/healthhub/core/config"
	"github.com/healthhub/healthhub/core/daemon"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ready := func(addr, token string) {
		fmt.Printf("hub listening on http://%s\nclinician token: %s\n", addr, token)
	}
	if err := run(ctx, os.Environ(), os.Stderr, ready); err != nil {
		fmt.Fprintln(os.Stderr, "embedded-hub:", err)
		os.Exit(1)
	}
}

// run starts the hub with the configuration that environ's HUB_* variables
// give, registers the word-count model and serves until ctx ends. Once the
// hub listens, ready receives its address and a clinician token.
func run(ctx context.Context, environ []string, logs io.Writer, ready func(addr, token string)) error {
	cfg, unknown, err := config.Load("", environ)
	if err != nil {
		return err
	}
	if len(unknown) > 0 {
		fmt.Fprintf(logs, "ignoring variables that name no configuration key: %s\n", strings.Join(unknown, ", "))
	}
	logger := cfg.Logging.NewLogger(logs)

	// The key that signs the hub's own tokens, shared with hub token issue
	// through the data directory.
	key, err := daemon.LoadSigningKey(cfg)
	if err != nil {
		return err
	}
	hub, err := daemon.New(ctx, cfg, key, logger)
	if err != nil {
		return err
	}
	// Providers are registered after New, which starts the plugins, and
	// before Serve.
	if err := hub.Plugins().Register(sdk.Provider{Info: wordCountInfo(), ChatModel: wordCount{}}); err != nil {
		return err
	}

	issuer, err := auth.NewIssuer(key, cfg.Auth)
	if err != nil {
		return err
	}
	issued, err := issuer.Issue(auth.TokenRequest{
		Subject: "dr-lee", Roles: []string{"clinician"}, Tenant: "north",
		Scopes: []string{"user/*.cruds"}, TTL: time.Hour,
	})
	if err != nil {
		return err
	}

	// Listening here, rather than in Daemon.Run, gives the address even
	// when server.listen requests any free port (127.0.0.1:0).
	listen := cfg.Server.Listen
	if listen == "" {
		listen = api.DefaultListen
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return err
	}
	ready(ln.Addr().String(), issued.Token)
	return hub.Serve(ctx, ln)
}

// wordCountInfo describes the word-count model: it runs in this process,
// so no data leaves the machine and none is kept.
func wordCountInfo() sdk.Info {
	return sdk.Info{
		Name:    "word-count",
		Version: "1.0.0",
		Kinds:   []sdk.Kind{sdk.KindLLM},
		DataUse: sdk.DataUse{Egress: false, RetentionDays: 0},
	}
}

// wordCount stands for a model a team runs itself: it replies with the
// number of words of the last message.
type wordCount struct{}

func (wordCount) Chat(ctx context.Context, req sdk.ChatRequest) (*sdk.ChatResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, sdk.Invalidf("/messages", "chat: no messages: send at least one")
	}
	last := req.Messages[len(req.Messages)-1].Content
	reply := fmt.Sprintf("%d words", len(strings.Fields(last)))
	return &sdk.ChatResponse{
		Message:      sdk.ChatMessage{Role: sdk.RoleAssistant, Content: reply},
		Model:        "word-count-1",
		FinishReason: "stop",
	}, nil
}
