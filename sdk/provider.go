package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
)

// Provider bundles a provider's description with its implementations, one
// field per kind it serves. The same value describes a plugin binary to
// Serve and an in-process provider to the hub, and the host-side adapter
// returns one for a running plugin, so the hub handles both alike.
//
// Optional interfaces (Configurer, HealthChecker, DataUseReporter and the
// per-kind ones such as ChatStreamer) are discovered on the implementations
// by type assertion.
type Provider struct {
	Info          Info
	Storage       Storage
	Transcriber   Transcriber
	ImageAnalyzer ImageAnalyzer
	ChatModel     ChatModel
	EHR           EHRConnector
}

// Validate checks that Info is complete and that the implementations match
// Info.Kinds exactly.
func (p Provider) Validate() error {
	if p.Info.Name == "" {
		return fmt.Errorf("provider info: name is empty")
	}
	if p.Info.Version == "" {
		return fmt.Errorf("provider %q: version is empty", p.Info.Name)
	}
	if len(p.Info.Kinds) == 0 {
		return fmt.Errorf("provider %q: kinds is empty", p.Info.Name)
	}
	for _, kind := range Kinds {
		declared := p.Info.HasKind(kind)
		implemented := p.Implementation(kind) != nil
		if declared && !implemented {
			return fmt.Errorf("provider %q declares kind %q but has no implementation for it", p.Info.Name, kind)
		}
		if implemented && !declared {
			return fmt.Errorf("provider %q implements kind %q but does not declare it in Info.Kinds", p.Info.Name, kind)
		}
	}
	return nil
}

// Implementation returns the implementation of kind k, or nil.
func (p Provider) Implementation(k Kind) any {
	switch k {
	case KindStorage:
		if p.Storage != nil {
			return p.Storage
		}
	case KindTranscription:
		if p.Transcriber != nil {
			return p.Transcriber
		}
	case KindImaging:
		if p.ImageAnalyzer != nil {
			return p.ImageAnalyzer
		}
	case KindLLM:
		if p.ChatModel != nil {
			return p.ChatModel
		}
	case KindEHR:
		if p.EHR != nil {
			return p.EHR
		}
	}
	return nil
}

// CheckHealth calls CheckHealth on every distinct implementation that is a
// HealthChecker and returns the first error.
func (p Provider) CheckHealth(ctx context.Context) error {
	for _, impl := range p.implementations() {
		if checker, ok := impl.(HealthChecker); ok {
			if err := checker.CheckHealth(ctx); err != nil {
				return fmt.Errorf("%s health: %w", p.Info.Name, err)
			}
		}
	}
	return nil
}

// Configurable reports whether any implementation is a Configurer.
func (p Provider) Configurable() bool {
	for _, impl := range p.implementations() {
		if _, ok := impl.(Configurer); ok {
			return true
		}
	}
	return false
}

// Configure passes config to every distinct implementation that is a
// Configurer, once each, and returns the first error. A provider without a
// Configurer accepts only an empty config (no bytes, null or {}) and
// rejects any other with ErrInvalid.
func (p Provider) Configure(ctx context.Context, config json.RawMessage) error {
	if !p.Configurable() {
		if isEmptyConfig(config) {
			return nil
		}
		return Invalidf("", "configure %s: the provider takes no configuration; remove its configuration object", p.Info.Name)
	}
	for _, impl := range p.implementations() {
		if configurer, ok := impl.(Configurer); ok {
			if err := configurer.Configure(ctx, config); err != nil {
				return err
			}
		}
	}
	return nil
}

// DataUse returns the data-use declaration in force: that of the first
// implementation that is a DataUseReporter, or Info.DataUse.
func (p Provider) DataUse() DataUse {
	for _, impl := range p.implementations() {
		if reporter, ok := impl.(DataUseReporter); ok {
			return reporter.DataUse()
		}
	}
	return p.Info.DataUse
}

// implementations returns the implementations of the kinds p serves, each
// value once even when it serves several kinds.
func (p Provider) implementations() []any {
	var out []any
	for _, kind := range Kinds {
		impl := p.Implementation(kind)
		if impl == nil || slices.ContainsFunc(out, func(seen any) bool { return sameValue(seen, impl) }) {
			continue
		}
		out = append(out, impl)
	}
	return out
}

// sameValue reports whether a and b are the same comparable value, without
// the panic that == raises on interfaces holding uncomparable types.
func sameValue(a, b any) bool {
	ta := reflect.TypeOf(a)
	if ta != reflect.TypeOf(b) || !ta.Comparable() {
		return false
	}
	return a == b
}

// isEmptyConfig reports whether config is absent, null or an object
// without members.
func isEmptyConfig(config json.RawMessage) bool {
	trimmed := bytes.TrimSpace(config)
	if len(trimmed) == 0 || string(trimmed) == "null" {
		return true
	}
	var members map[string]json.RawMessage
	return json.Unmarshal(trimmed, &members) == nil && len(members) == 0
}
