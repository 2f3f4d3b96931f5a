package plugin

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hclogBridge is an hclog.Logger that writes to a slog.Logger, so that
// go-plugin's own messages and the log lines plugins write to stderr land
// in the hub's log. Named loggers add a "logger" attribute.
type hclogBridge struct {
	logger *slog.Logger
	name   string
	args   []any
}

var _ hclog.Logger = (*hclogBridge)(nil)

func newHCLogBridge(logger *slog.Logger) *hclogBridge {
	return &hclogBridge{logger: logger}
}

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (b *hclogBridge) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	slogLevelValue := slogLevel(level)
	if !b.logger.Enabled(context.Background(), slogLevelValue) {
		return
	}
	attrs := make([]any, 0, len(b.args)+len(args)+2)
	if b.name != "" {
		attrs = append(attrs, "logger", b.name)
	}
	attrs = append(attrs, b.args...)
	attrs = append(attrs, bridgeArgs(args)...)
	b.logger.Log(context.Background(), slogLevelValue, msg, attrs...)
}

// bridgeArgs drops the "timestamp" pair go-plugin adds to each plugin log
// line, since the slog record carries its own time, and the "plugin" pair
// of go-plugin's own messages, since each bridge logs under a logger that
// already names the plugin. It pairs up an odd trailing value.
func bridgeArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for i := 0; i < len(args); i += 2 {
		if i+1 == len(args) {
			out = append(out, "extra", args[i])
			break
		}
		if key, ok := args[i].(string); ok && (key == "timestamp" || key == "plugin") {
			continue
		}
		out = append(out, args[i], args[i+1])
	}
	return out
}

func (b *hclogBridge) Trace(msg string, args ...any) { b.Log(hclog.Trace, msg, args...) }
func (b *hclogBridge) Debug(msg string, args ...any) { b.Log(hclog.Debug, msg, args...) }
func (b *hclogBridge) Info(msg string, args ...any)  { b.Log(hclog.Info, msg, args...) }
func (b *hclogBridge) Warn(msg string, args ...any)  { b.Log(hclog.Warn, msg, args...) }
func (b *hclogBridge) Error(msg string, args ...any) { b.Log(hclog.Error, msg, args...) }

func (b *hclogBridge) enabled(level hclog.Level) bool {
	return b.logger.Enabled(context.Background(), slogLevel(level))
}

func (b *hclogBridge) IsTrace() bool { return b.enabled(hclog.Trace) }
func (b *hclogBridge) IsDebug() bool { return b.enabled(hclog.Debug) }
func (b *hclogBridge) IsInfo() bool  { return b.enabled(hclog.Info) }
func (b *hclogBridge) IsWarn() bool  { return b.enabled(hclog.Warn) }
func (b *hclogBridge) IsError() bool { return b.enabled(hclog.Error) }

func (b *hclogBridge) ImpliedArgs() []any { return b.args }

func (b *hclogBridge) With(args ...any) hclog.Logger {
	return &hclogBridge{logger: b.logger, name: b.name, args: append(append([]any{}, b.args...), bridgeArgs(args)...)}
}

func (b *hclogBridge) Name() string { return b.name }

func (b *hclogBridge) Named(name string) hclog.Logger {
	if b.name != "" {
		name = b.name + "." + name
	}
	return b.ResetNamed(name)
}

func (b *hclogBridge) ResetNamed(name string) hclog.Logger {
	return &hclogBridge{logger: b.logger, name: name, args: b.args}
}

// SetLevel does nothing: the slog handler decides what is kept.
func (b *hclogBridge) SetLevel(hclog.Level) {}

// GetLevel returns the lowest hclog level the slog handler keeps, which
// lets go-plugin skip parsing plugin lines that would be dropped.
func (b *hclogBridge) GetLevel() hclog.Level {
	for _, level := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if b.enabled(level) {
			return level
		}
	}
	return hclog.Off
}

func (b *hclogBridge) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(b.StandardWriter(opts), "", 0)
}

func (b *hclogBridge) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineLogger{log: func(line string) { b.Info(line) }}
}

// lineLogger logs each complete line written to it. go-plugin forwards a
// plugin's os.Stdout and os.Stderr after the handshake through one.
type lineLogger struct {
	mu      sync.Mutex
	pending []byte
	log     func(line string)
}

func (w *lineLogger) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pending = append(w.pending, p...)
	for {
		i := bytes.IndexByte(w.pending, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(string(w.pending[:i]), "\r"); line != "" {
			w.log(line)
		}
		w.pending = w.pending[i+1:]
	}
	if len(w.pending) > captureLimit {
		w.log(string(w.pending))
		w.pending = w.pending[:0]
	}
	return len(p), nil
}
