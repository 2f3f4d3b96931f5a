package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"

	"github.com/healthhub/healthhub/sdk"
)

// ErrHandshake is returned, wrapped with details, when a plugin binary
// does not complete the go-plugin handshake: it printed something else to
// stdout, speaks another protocol version, or exited first.
var ErrHandshake = errors.New("plugin handshake failed")

// ErrBreakerOpen is returned, wrapped, by calls to a plugin that crashed
// too often: the host no longer restarts it until Host.Restart.
var ErrBreakerOpen = errors.New("circuit breaker open")

// crashGrace is how long a failed call waits for the plugin process to
// exit before it reports the failure as a crash. A plugin killed mid-call
// breaks the connection a moment before the process is reaped.
const crashGrace = time.Second

// State is the lifecycle state of a plugin.
type State string

// Plugin states.
const (
	// StateRunning: the plugin process is up and serving.
	StateRunning State = "running"
	// StateRestarting: the process exited and the host is restarting it.
	StateRestarting State = "restarting"
	// StateFailed: the circuit breaker opened after repeated crashes.
	StateFailed State = "failed"
	// StateStopped: the host shut the plugin down.
	StateStopped State = "stopped"
	// StateInProcess: a provider registered in the hub's own process.
	StateInProcess State = "in-process"
)

// instance is one running plugin process.
type instance struct {
	client  *plugin.Client
	runner  *processRunner
	conn    *sdk.Conn
	info    sdk.Info
	dataUse sdk.DataUse
}

func (i *instance) pid() int { return i.runner.pid }

// managed is a subprocess plugin under supervision.
type managed struct {
	host     *Host
	manifest Manifest
	config   json.RawMessage
	logger   *slog.Logger
	bridge   *hclogBridge
	stopCh   chan struct{}

	mu       sync.Mutex
	current  *instance
	ready    chan struct{} // closed while current is set or the breaker is open
	state    State
	crashes  []time.Time
	restarts int
	lastErr  error
	closing  bool
}

func newManaged(h *Host, m Manifest, config json.RawMessage) *managed {
	logger := h.logger.With("plugin", m.Name)
	return &managed{
		host:     h,
		manifest: m,
		config:   config,
		logger:   logger,
		bridge:   newHCLogBridge(logger),
		stopCh:   make(chan struct{}),
		ready:    make(chan struct{}),
		state:    StateRestarting,
	}
}

// launch verifies, starts, describes and configures one plugin process.
func (m *managed) launch(ctx context.Context) (*instance, error) {
	if err := m.manifest.VerifyChecksum(); err != nil {
		return nil, err
	}
	var proc *processRunner
	cfg := &plugin.ClientConfig{
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			cmd := exec.Command(m.manifest.BinaryPath())
			cmd.Env = append(spec.Env, sdk.LogLevelEnv+"="+m.logLevel())
			var err error
			proc, err = newProcessRunner(m.manifest.Name, cmd, m.host.spawner)
			if proc != nil {
				proc.onExit = func() { m.markDown(proc) }
			}
			return proc, err
		},
		AutoMTLS:     true,
		Logger:       m.bridge,
		StartTimeout: m.host.cfg.startTimeout,
		SyncStdout:   &lineLogger{log: func(line string) { m.logger.Info(line, "stream", "stdout") }},
		SyncStderr:   &lineLogger{log: func(line string) { m.logger.Warn(line, "stream", "stderr") }},
	}
	sdk.ConfigureClient(cfg)
	client := plugin.NewClient(cfg)

	inst, err := m.connect(ctx, client)
	if err != nil {
		client.Kill()
		if proc != nil {
			err = m.explainStart(proc, err)
		}
		return nil, err
	}
	inst.runner = proc
	return inst, nil
}

func (m *managed) connect(ctx context.Context, client *plugin.Client) (*instance, error) {
	rpc, err := client.Client()
	if err != nil {
		return nil, fmt.Errorf("launch plugin %q: %w: %w", m.manifest.Name, ErrHandshake, err)
	}
	conn, err := sdk.DispenseConn(rpc)
	if err != nil {
		return nil, fmt.Errorf("launch plugin %q: %w", m.manifest.Name, err)
	}
	desc, err := conn.Describe(ctx)
	if err != nil {
		return nil, fmt.Errorf("launch plugin %q: describe: %w", m.manifest.Name, err)
	}
	if err := m.checkDescription(desc.Info); err != nil {
		return nil, err
	}
	dataUse, err := conn.Configure(ctx, m.config)
	if err != nil {
		return nil, fmt.Errorf("configure plugin %q: %w", m.manifest.Name, err)
	}
	return &instance{client: client, conn: conn, info: desc.Info, dataUse: dataUse}, nil
}

// checkDescription compares what the binary reports with its manifest.
func (m *managed) checkDescription(info sdk.Info) error {
	if info.Name != m.manifest.Name {
		return fmt.Errorf("launch plugin %q: the binary reports name %q; fix the manifest or the binary", m.manifest.Name, info.Name)
	}
	if info.Version != m.manifest.Version {
		return fmt.Errorf("launch plugin %q: the manifest says version %s but the binary reports %s; fix the manifest", m.manifest.Name, m.manifest.Version, info.Version)
	}
	want := slices.Clone(m.manifest.Kinds)
	got := slices.Clone(info.Kinds)
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(want, got) {
		return fmt.Errorf("launch plugin %q: the manifest lists kinds %v but the binary serves %v; fix the manifest", m.manifest.Name, want, got)
	}
	return nil
}

// explainStart turns a launch failure into an error that describes what
// the plugin did: a handshake from another protocol version, text printed
// to stdout before the handshake, or an early exit with its stderr.
func (m *managed) explainStart(proc *processRunner, err error) error {
	name := m.manifest.Name
	var printed []string
	for _, line := range strings.Split(proc.stdoutHead.String(), "\n") {
		parts := strings.Split(strings.TrimSpace(line), "|")
		if _, convErr := strconv.Atoi(parts[0]); len(parts) < 4 || convErr != nil {
			printed = append(printed, line)
			continue
		}
		if len(printed) > 0 {
			break
		}
		if parts[1] != strconv.Itoa(sdk.ProtocolVersion) {
			return fmt.Errorf("launch plugin %q: %w: protocol version mismatch: the plugin speaks %s, the hub speaks %d; rebuild the plugin against a matching sdk",
				name, ErrHandshake, parts[1], sdk.ProtocolVersion)
		}
		return err
	}
	if text := strings.TrimSpace(strings.Join(printed, "\n")); text != "" {
		return fmt.Errorf("launch plugin %q: %w: the plugin printed %q to stdout before its handshake; plugins must leave stdout to the handshake and log to stderr",
			name, ErrHandshake, truncate(text, 200))
	}
	if tail := proc.stderrTail.String(); tail != "" {
		return fmt.Errorf("%w (process %s; stderr ends with: %s)", err, proc.exitStatus(), truncate(lastLines(tail, 5), 1000))
	}
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// logLevel is the level passed to the plugin through sdk.LogLevelEnv: the
// lowest level the hub's logger keeps.
func (m *managed) logLevel() string {
	ctx := context.Background()
	for _, candidate := range []struct {
		level slog.Level
		name  string
	}{{slog.LevelDebug, "debug"}, {slog.LevelInfo, "info"}, {slog.LevelWarn, "warn"}} {
		if m.logger.Enabled(ctx, candidate.level) {
			return candidate.name
		}
	}
	return "error"
}

// conn returns the connection of the running process. While the plugin
// restarts, conn waits for it until ctx ends. When the breaker is open or
// the host is closed, conn fails at once with an error matching
// sdk.ErrUnavailable.
func (m *managed) conn(ctx context.Context) (*sdk.Conn, error) {
	for {
		m.mu.Lock()
		current, state, ready := m.current, m.state, m.ready
		m.mu.Unlock()

		switch {
		case current != nil:
			return current.conn, nil
		case state == StateFailed:
			// The last crash stays out of the message, because the message
			// reaches API clients and a failed launch names the binary's
			// path. The hub log and hub plugins list show it to operators.
			return nil, m.unavailable("%w after %d crashes within %s; an operator finds the cause in the hub log and hub plugins list",
				ErrBreakerOpen, m.host.cfg.maxCrashes, m.host.cfg.crashWindow)
		case state == StateStopped:
			return nil, m.unavailable("the plugin host is shut down")
		}
		select {
		case <-ready:
		case <-ctx.Done():
			return nil, fmt.Errorf("plugin %q is restarting: %w", m.manifest.Name, ctx.Err())
		}
	}
}

// unavailable returns an error that matches sdk.ErrUnavailable, carries
// an outcome for the HTTP edge, and wraps the sentinels in args.
func (m *managed) unavailable(format string, args ...any) error {
	cause := fmt.Errorf(format, args...)
	outcome := sdk.Errorf(sdk.CodeTransient, "plugin %q is unavailable: %v", m.manifest.Name, cause)
	outcome.Issues[0].Source = sdk.SourceHub
	return &unavailableError{outcome: outcome, cause: cause}
}

// unavailableError is an outcome together with the error behind it, so
// that errors.Is finds both sdk.ErrUnavailable and the host's sentinels.
type unavailableError struct {
	outcome *sdk.Outcome
	cause   error
}

func (e *unavailableError) Error() string   { return e.outcome.Error() }
func (e *unavailableError) Unwrap() []error { return []error{e.outcome, e.cause} }

func (m *managed) currentInstance() *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.current
}

// explainFailure reports a call that failed because the plugin process
// died under it as a crash, naming the plugin, the call and how the
// process ended. Other errors pass unchanged.
func (m *managed) explainFailure(call sdk.Call, inst *instance, err error) error {
	if inst == nil {
		return err
	}
	select {
	case <-inst.runner.exited:
	default:
		if !errors.Is(err, sdk.ErrUnavailable) {
			return err
		}
		select {
		case <-inst.runner.exited:
		case <-time.After(crashGrace):
			return err
		}
	}
	return fmt.Errorf("plugin %q (pid %d) exited during %s.%s: %s; the host is restarting it: %w",
		m.manifest.Name, inst.pid(), call.Kind, call.Method, inst.runner.exitStatus(), err)
}
