package sdk

import (
	"context"
	"fmt"
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

// CheckHealth calls CheckHealth on every implementation that is a
// HealthChecker and returns the first error.
func (p Provider) CheckHealth(ctx context.Context) error {
	for _, kind := range Kinds {
		if checker, ok := p.Implementation(kind).(HealthChecker); ok {
			if err := checker.CheckHealth(ctx); err != nil {
				return fmt.Errorf("%s %s: %w", p.Info.Name, kind, err)
			}
		}
	}
	return nil
}
