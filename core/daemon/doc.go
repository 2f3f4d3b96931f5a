// Package daemon assembles the hub from its configuration: it loads the
// signing key and credentials, builds the authenticator, the metrics and
// the HTTP server, and runs the server until its context ends. "hub serve"
// is a thin wrapper around it, and Go programs that embed the hub can use
// it the same way.
package daemon
