// Package sdk is the contract between the HealthHub hub and its providers.
//
// It defines the provider interfaces of the five kinds (Storage, Transcriber,
// ImageAnalyzer, ChatModel, EHRConnector), the description every provider
// gives of itself (Info, with its DataUse declaration), and the error type
// shared end to end (Outcome).
//
// Vendors build a plugin binary by filling a Provider and passing it to
// Serve. The hub runs the binary as a hashicorp/go-plugin gRPC subprocess
// and turns it back into a Provider with the same Go interfaces, so nothing
// outside this package sees protobuf types. Go programs that embed the hub
// may register a Provider in-process instead.
//
// Hosts reach plugins through ConfigureClient, DispenseConn and
// NewRemoteProvider; Intercept wraps any provider with a hook around each
// call; ServeLoopback serves a provider over the wire protocol inside one
// process, for tests. Package sdktest holds the conformance suites that
// every provider should pass.
//
// The package stays thin on purpose: it imports no policy engine, HTTP
// client library or hub package, so that a plugin binary carries only what
// it needs.
package sdk
