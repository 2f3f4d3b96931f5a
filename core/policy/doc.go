// Package policy decides every access and every provider call of the hub
// with Rego policies evaluated by an embedded Open Policy Agent.
//
// An Engine compiles a policy set once (the embedded defaults of package
// policies, or the *.rego files of a directory), runs the set's Rego unit
// tests, and prepares the decision query data.healthhub.authz.decision.
// Decide then evaluates the prepared query for one Input and returns a
// Decision: allow or deny, the reasons, and the obligations the hub applies
// to the payload before it leaves (package obligation applies them).
//
// Reload compiles and tests a new set from the directory and swaps it in
// atomically; decisions running at the time finish on the old set, and a set
// that fails to compile or to pass its tests never goes live. With
// Config.Watch the engine reloads by itself when a file in the directory
// changes.
//
// The engine fails closed: an undefined or malformed decision, an evaluation
// error and a built-in error (such as a malformed date in the input) all
// produce a deny Decision with a reason, next to the error.
package policy
