// Package sdktest is the conformance kit for HealthHub providers. A vendor
// calls the suite of each kind their provider serves from an ordinary
// go test:
//
//	func TestConformance(t *testing.T) {
//		sdktest.Storage(t, func(t *testing.T) sdk.Storage {
//			store, err := mystore.New(mystore.Config{Root: t.TempDir()})
//			require.NoError(t, err)
//			return store
//		})
//	}
//
// Each suite runs subtests for the kind's contract. Every suite checks
// not-found and invalid-input errors (matched with errors.Is against the
// sdk sentinels), context cancellation honoured within CancelWait, large
// payloads and concurrent calls. It then checks the kind-specific
// behaviour, such as listing order and paging, atomic replace or streaming
// order. Large payloads shrink under go test -short.
//
// The factory passed to a suite returns a ready provider: configured, and
// for providers that call an upstream service, pointed at one. It is called
// once per subtest. Suites never assume the provider is empty, so a factory
// may return the same shared backend each time.
//
// Loopback puts a provider behind the real plugin wire protocol inside the
// test process, so that a suite also checks what crosses the gRPC boundary
// without building a plugin binary.
package sdktest
