package sdk

import (
	"context"
	"encoding/json"
)

// ProtocolVersion is the plugin protocol version this SDK speaks. The host
// and a plugin negotiate it in the go-plugin handshake; a plugin built
// against another version is refused with both versions named.
const ProtocolVersion = 1

// Kind is a provider kind: the service a provider offers to the hub.
type Kind string

// Provider kinds.
const (
	KindStorage       Kind = "storage"
	KindTranscription Kind = "transcription"
	KindImaging       Kind = "imaging"
	KindLLM           Kind = "llm"
	KindEHR           Kind = "ehr"
)

// Kinds lists every provider kind in a stable order.
var Kinds = []Kind{KindStorage, KindTranscription, KindImaging, KindLLM, KindEHR}

// Info describes a provider: what it is, what it serves and where the data
// it receives goes. Plugins return it from the Describe call; in-process
// providers pass it to the hub on registration. The hub's policies read
// DataUse before every call to the provider.
type Info struct {
	// Name is the provider's unique name, such as "storage-fs".
	Name string `json:"name"`
	// Version is the provider's semantic version, such as "1.4.2".
	Version string `json:"version"`
	// Kinds lists the provider kinds it serves.
	Kinds []Kind `json:"kinds"`
	// ProtocolVersion is the plugin protocol version the provider was built
	// against; it is ProtocolVersion for plugins built with this SDK.
	ProtocolVersion int `json:"protocol_version"`
	// Capabilities lists optional features, such as "stream" for a
	// transcriber or chat model that streams, or "deidentify" for an
	// imaging provider. See the Capability constants.
	Capabilities []string `json:"capabilities,omitempty"`
	// DataUse declares what happens to data the provider receives.
	DataUse DataUse `json:"data_use"`
}

// HasKind reports whether the provider serves kind k.
func (i Info) HasKind(k Kind) bool {
	for _, kind := range i.Kinds {
		if kind == k {
			return true
		}
	}
	return false
}

// HasCapability reports whether the provider declares capability c.
func (i Info) HasCapability(c string) bool {
	for _, capability := range i.Capabilities {
		if capability == c {
			return true
		}
	}
	return false
}

// Capabilities a provider may declare in Info.Capabilities.
const (
	// CapabilityStream: the transcriber or chat model implements the
	// streaming variant of its interface.
	CapabilityStream = "stream"
	// CapabilityStudy: the imaging provider implements StudyReader.
	CapabilityStudy = "study"
	// CapabilityDeidentify: the imaging provider implements Deidentifier.
	CapabilityDeidentify = "deidentify"
	// CapabilityTransaction: the EHR connector implements
	// TransactionRunner.
	CapabilityTransaction = "transaction"
)

// DataUse is a provider's data-use declaration: whether data leaves the
// machine, where it goes, and under which agreement. Policies decide from it
// what a provider may receive, for example that a provider without a
// business associate agreement gets de-identified payloads only.
type DataUse struct {
	// Egress is true when the provider sends data it receives off the
	// machine the hub runs on.
	Egress bool `json:"egress"`
	// Hosts lists the host names data is sent to when Egress is true.
	Hosts []string `json:"hosts,omitempty"`
	// Region is where the data is processed, such as "us-east-1" or "eu".
	// Empty when Egress is false.
	Region string `json:"region,omitempty"`
	// BAA is true when a HIPAA business associate agreement covers the
	// receiving party.
	BAA bool `json:"baa"`
	// RetentionDays is how long the receiving party keeps the data, in
	// days: 0 means not kept after the call, -1 means unknown or
	// indefinite.
	RetentionDays int `json:"retention_days"`
}

// Configurer is implemented by providers that take settings from the hub.
// The hub calls Configure once, after launch and before any other call, with
// the provider's configuration object from the hub configuration (JSON, or
// null when there is none). A provider returns an *Outcome with the path of
// each bad setting.
type Configurer interface {
	Configure(ctx context.Context, config json.RawMessage) error
}

// DataUseReporter is implemented by providers whose data use depends on
// their configuration, such as the vendor endpoint. The hub reads it after
// Configure and uses it in place of Info.DataUse.
type DataUseReporter interface {
	DataUse() DataUse
}

// HealthChecker is implemented by providers that can tell whether they are
// able to serve, for example by reaching their upstream service. A nil error
// means healthy.
type HealthChecker interface {
	CheckHealth(ctx context.Context) error
}
