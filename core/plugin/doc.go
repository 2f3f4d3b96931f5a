// Package plugin is the hub's plugin host. It discovers provider plugins
// in a directory and checks each binary against the SHA-256 in its
// manifest. It launches each as a hashicorp/go-plugin gRPC subprocess with
// automatic mutual TLS, configures it and supervises it. A plugin that
// crashes is restarted with exponential backoff until a circuit breaker
// gives up on it. Go programs may also Register in-process providers.
//
// Every provider, subprocess or in-process, is handed out as the same
// sdk.Provider shape, wrapped so that each call gets the configured
// deadline and is reported to the Observer. Nothing here imports protobuf
// types: the wire protocol stays inside package sdk.
//
// Plugin logs arrive as hclog JSON lines on the plugin's stderr and are
// re-emitted through the hub's slog logger with a "plugin" attribute.
package plugin
