package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// ErrUnknownPlugin is returned, wrapped with the name, for a plugin name
// the host does not have.
var ErrUnknownPlugin = errors.New("unknown plugin")

// ErrDuplicatePlugin is returned, wrapped with the name, when a second
// provider is registered or loaded under a name already in use.
var ErrDuplicatePlugin = errors.New("plugin name already in use")

// CallStats describes one finished provider call.
type CallStats struct {
	// Plugin is the provider's name.
	Plugin string
	// Kind and Method name the interface method called, such as storage
	// and "Put".
	Kind   sdk.Kind
	Method string
	// Duration is the call's wall time; for Storage.Get it runs until the
	// body is read to its end or closed.
	Duration time.Duration
	// Err is the call's error, nil on success.
	Err error
}

// Observer receives the statistics of every provider call, for metrics.
// It is called synchronously at the end of each call and must be fast and
// safe for concurrent use.
type Observer func(CallStats)

// Option configures a Host beyond its Config.
type Option func(*Host)

// WithObserver reports every provider call to o.
func WithObserver(o Observer) Option {
	return func(h *Host) { h.observer = o }
}

// Host discovers, launches and supervises plugins and holds in-process
// providers. It is safe for concurrent use. Close stops every plugin.
type Host struct {
	cfg      settings
	logger   *slog.Logger
	observer Observer
	spawner  *spawner

	mu       sync.Mutex
	entries  map[string]*entry
	order    []string
	failures []LoadFailure
	closed   bool
}

// entry is one provider the host hands out.
type entry struct {
	provider sdk.Provider // wrapped with the host's interceptor
	raw      sdk.Provider // in-process providers: as registered
	managed  *managed     // subprocess plugins only
}

// New returns a host with cfg. It starts nothing: call Start to load the
// plugin directory, or Register to add in-process providers.
func New(cfg Config, logger *slog.Logger, opts ...Option) *Host {
	h := &Host{
		cfg:     cfg.settings(),
		logger:  logger,
		spawner: newSpawner(),
		entries: map[string]*entry{},
	}
	for _, opt := range opts {
		opt(h)
	}
	return h
}

// Start loads every plugin in the plugin directory: it checks each binary
// against its manifest, launches it and configures it. Plugins that fail
// are not loaded; Start returns one joined error naming each failure
// (including unlisted executables) and keeps the plugins that did load.
func (h *Host) Start(ctx context.Context) error {
	manifests, problems := Discover(h.cfg.dir)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, m := range manifests {
		wg.Go(func() {
			if err := h.Load(ctx, m); err != nil {
				mu.Lock()
				problems = append(problems, err)
				mu.Unlock()
				h.recordFailure(LoadFailure{Name: m.Name, Version: m.Version, Kinds: m.Kinds, Error: err.Error()})
			}
		})
	}
	wg.Wait()
	for _, err := range problems {
		h.logger.Error("plugin not loaded", "error", err)
	}
	return errors.Join(problems...)
}

// LoadFailure is a plugin of the plugin directory that Start could not
// load, such as one whose binary does not match its manifest's checksum.
type LoadFailure struct {
	Name    string
	Version string
	Kinds   []sdk.Kind
	// Error is the reason the plugin did not load. It may name files of
	// the server, so it is for operators.
	Error string
}

func (h *Host) recordFailure(f LoadFailure) {
	h.mu.Lock()
	defer h.mu.Unlock()
	at, _ := slices.BinarySearchFunc(h.failures, f.Name, func(x LoadFailure, name string) int { return strings.Compare(x.Name, name) })
	h.failures = slices.Insert(h.failures, at, f)
}

// LoadFailures returns the plugins that Start could not load, in name
// order.
func (h *Host) LoadFailures() []LoadFailure {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.failures)
}

// Load launches the plugin of one manifest and adds it to the host. The
// configuration object is Config.Plugins[name], or the manifest's default.
func (h *Host) Load(ctx context.Context, m Manifest) error {
	config := configFor(h.cfg.plugins, m)
	configSchema, err := compileConfigSchema(m)
	if err != nil {
		return err
	}
	if err := validateConfig(ctx, configSchema, config); err != nil {
		return fmt.Errorf("configure plugin %q: %w", m.Name, err)
	}
	if err := h.reserve(m.Name); err != nil {
		return err
	}

	mp := newManaged(h, m, config)
	startCtx, cancel := context.WithTimeout(ctx, h.cfg.startTimeout)
	inst, err := mp.launch(startCtx)
	cancel()
	if err != nil {
		h.release(m.Name)
		return err
	}

	info := inst.info
	info.DataUse = inst.dataUse
	remote := sdk.NewRemoteProvider(info, mp.conn)
	e := &entry{provider: sdk.Intercept(remote, h.interceptor(mp)), managed: mp}
	mp.setRunning(inst)
	if err := h.commit(m.Name, e); err != nil {
		mp.stop()
		return err
	}
	go mp.supervise(inst)
	mp.logger.Info("plugin started", "version", info.Version, "pid", inst.pid(), "kinds", info.Kinds)
	return nil
}

// Register adds an in-process provider. It gets the same wrapping as a
// plugin (deadlines, observer), so callers cannot tell the two apart. The
// host does not configure it: pass a configured provider.
func (h *Host) Register(p sdk.Provider) error {
	if p.Info.ProtocolVersion == 0 {
		p.Info.ProtocolVersion = sdk.ProtocolVersion
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("register provider: %w", err)
	}
	if err := h.reserve(p.Info.Name); err != nil {
		return err
	}
	e := &entry{provider: sdk.Intercept(p, h.interceptor(nil)), raw: p}
	if err := h.commit(p.Info.Name, e); err != nil {
		return err
	}
	h.logger.Info("provider registered", "plugin", p.Info.Name, "version", p.Info.Version, "kinds", p.Info.Kinds)
	return nil
}

// reserve claims name so that two concurrent loads cannot both take it.
func (h *Host) reserve(name string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return fmt.Errorf("load plugin %q: the host is closed", name)
	}
	if _, taken := h.entries[name]; taken {
		return fmt.Errorf("load plugin %q: %w", name, ErrDuplicatePlugin)
	}
	h.entries[name] = nil
	return nil
}

func (h *Host) release(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.entries, name)
}

func (h *Host) commit(name string, e *entry) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		delete(h.entries, name)
		return fmt.Errorf("load plugin %q: the host closed during the load", name)
	}
	h.entries[name] = e
	// Plugins load concurrently, so the order is by name rather than by
	// when each load ended. The default provider then stays the same across
	// restarts.
	at, _ := slices.BinarySearch(h.order, name)
	h.order = slices.Insert(h.order, at, name)
	return nil
}

// interceptor returns the wrapping every call gets: the configured
// deadline, crash reporting for subprocess plugins (mp non-nil) and the
// observer.
func (h *Host) interceptor(mp *managed) sdk.Interceptor {
	return func(ctx context.Context, call sdk.Call) (context.Context, func(error) error, error) {
		start := time.Now()
		cancel := context.CancelFunc(func() {})
		if h.cfg.callTimeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, h.cfg.callTimeout)
		}
		var inst *instance
		if mp != nil {
			inst = mp.currentInstance()
		}
		finish := func(err error) error {
			cancel()
			if mp != nil && err != nil {
				err = mp.explainFailure(call, inst, err)
			}
			if h.observer != nil {
				h.observer(CallStats{Plugin: call.Provider, Kind: call.Kind, Method: call.Method, Duration: time.Since(start), Err: err})
			}
			return err
		}
		return ctx, finish, nil
	}
}

// Provider returns the provider named name.
func (h *Host) Provider(name string) (sdk.Provider, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e := h.entries[name]
	if e == nil {
		return sdk.Provider{}, fmt.Errorf("get provider %q: %w", name, ErrUnknownPlugin)
	}
	return e.provider, nil
}

// Providers returns every loaded provider in name order, optionally only
// those serving kind (an empty kind selects all). The hub's default
// provider of a kind is the first.
func (h *Host) Providers(kind sdk.Kind) []sdk.Provider {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []sdk.Provider
	for _, name := range h.order {
		e := h.entries[name]
		if kind == "" || e.provider.Info.HasKind(kind) {
			out = append(out, e.provider)
		}
	}
	return out
}

// Status is a snapshot of one provider's state.
type Status struct {
	Name    string     `json:"name"`
	Version string     `json:"version"`
	Kinds   []sdk.Kind `json:"kinds"`
	State   State      `json:"state"`
	// PID is the plugin's process id, 0 when no process runs or for an
	// in-process provider.
	PID int `json:"pid,omitempty"`
	// Restarts counts restarts after crashes since the host started.
	Restarts int `json:"restarts"`
	// LastError is the most recent crash or restart failure.
	LastError string      `json:"last_error,omitempty"`
	DataUse   sdk.DataUse `json:"data_use"`
}

// Statuses returns the state of every provider in name order.
func (h *Host) Statuses() []Status {
	h.mu.Lock()
	names := slices.Clone(h.order)
	entries := make([]*entry, len(names))
	for i, name := range names {
		entries[i] = h.entries[name]
	}
	h.mu.Unlock()

	out := make([]Status, len(entries))
	for i, e := range entries {
		out[i] = e.status()
	}
	return out
}

func (e *entry) status() Status {
	info := e.provider.Info
	s := Status{Name: info.Name, Version: info.Version, Kinds: info.Kinds, DataUse: e.provider.DataUse(), State: StateInProcess}
	if e.managed == nil {
		return s
	}
	m := e.managed
	m.mu.Lock()
	defer m.mu.Unlock()
	s.State, s.Restarts = m.state, m.restarts
	if m.current != nil {
		s.PID = m.current.pid()
	}
	if m.lastErr != nil {
		s.LastError = m.lastErr.Error()
	}
	return s
}

// CheckHealth checks one provider within Config.HealthTimeout. A plugin
// whose breaker is open, or that is restarting, is unhealthy.
func (h *Host) CheckHealth(ctx context.Context, name string) error {
	p, err := h.Provider(name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.healthTimeout)
	defer cancel()
	h.mu.Lock()
	e := h.entries[name]
	h.mu.Unlock()
	if e.managed != nil {
		if state := e.status().State; state != StateRunning {
			return e.managed.unavailable("state %s", state)
		}
	}
	return p.CheckHealth(ctx)
}

// Restart relaunches a plugin whose circuit breaker is open, with a fresh
// crash count.
func (h *Host) Restart(ctx context.Context, name string) error {
	h.mu.Lock()
	e := h.entries[name]
	h.mu.Unlock()
	if e == nil {
		return fmt.Errorf("restart plugin %q: %w", name, ErrUnknownPlugin)
	}
	if e.managed == nil {
		return fmt.Errorf("restart plugin %q: it is an in-process provider", name)
	}
	return e.managed.reset(ctx)
}

// Close stops every plugin and waits for the processes to exit. go-plugin
// gives each plugin two seconds to exit after the hub closes its
// connection and then kills it. The host cannot be used afterwards.
func (h *Host) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	var managed []*managed
	for _, e := range h.entries {
		if e != nil && e.managed != nil {
			managed = append(managed, e.managed)
		}
	}
	h.mu.Unlock()

	var wg sync.WaitGroup
	for _, m := range managed {
		wg.Go(m.stop)
	}
	wg.Wait()
	h.spawner.stop()
	return nil
}

// configFor returns the configuration object a plugin gets.
func configFor(plugins map[string]json.RawMessage, m Manifest) json.RawMessage {
	if config, ok := plugins[m.Name]; ok {
		return config
	}
	return m.DefaultConfig
}
