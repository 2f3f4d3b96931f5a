// Package settings holds the configuration pieces shared by the HTTP provider
// plugins: strict decoding of a plugin's configuration object into its Config
// struct, durations written as Go duration strings, secrets given inline or
// in a file, endpoint URL checks, and the data-use declaration derived from
// the configured endpoints.
//
// Every error is an *sdk.Outcome whose issue carries the JSON Pointer of the
// bad setting, so the hub can show the operator which line to fix.
package settings
