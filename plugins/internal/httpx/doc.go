// Package httpx is the outbound HTTP policy shared by the HTTP provider
// plugins, built on go-resty/resty/v2.
//
// A Client sends requests to one vendor service with these rules:
//
//   - Timeouts: each call, retries included, is bounded by Options.Timeout
//     and by the caller's context deadline, whichever ends first. A
//     streamed response is bounded by Timeout until its headers arrive and
//     then by Options.StreamIdleTimeout between reads.
//   - Retries: only idempotent requests are retried: GET, HEAD and OPTIONS,
//     and PUT or DELETE that carry an If-Match version check. A POST is
//     never replayed, whatever the failure. Retried failures are transport
//     errors and the statuses 408, 429, 502, 503 and 504.
//   - Waits: a 429 or 503 with Retry-After (delay in seconds or an
//     HTTP-date) waits that long. When the server asks for longer than
//     Options.RetryWaitMax, or longer than the time left before the
//     deadline, the call stops and returns the throttled error at once.
//     Other retries back off exponentially with jitter from RetryWaitMin,
//     capped at RetryWaitMax.
//   - Redirects stay on the configured host, so data goes only where the
//     plugin's data-use declaration says.
//   - Errors: a non-2xx status becomes an *sdk.Outcome with source
//     upstream: 401 login, 403 forbidden, 404 not-found, 409 and 412
//     conflict, 413 too-long, 429 throttled, 502 and 503 transient, 504
//     and timeouts timeout, other 5xx exception. A vendor-specific parser
//     adds the issues found in the error body.
//   - Logging: retries are logged with the plugin, operation, host, attempt
//     and status. URLs, query strings, bodies, prompts, transcripts, keys
//     and tokens are never logged, and resty's own logger is silenced
//     because its messages carry full URLs.
package httpx
