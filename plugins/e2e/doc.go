// Package e2e holds end-to-end tests of the provider operations: a real
// "hub serve" process with the built provider plugins, whose vendor
// services are the loopback test servers of plugins/internal. It lives
// under plugins/ because those servers are internal to it.
package e2e
