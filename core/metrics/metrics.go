package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets span 100 µs to about 26 s, for requests and calls that
// range from a cached read to a slow model.
var latencyBuckets = prometheus.ExponentialBuckets(0.0001, 2, 19)

// decisionBuckets span 10 µs to about 80 ms, for embedded policy decisions.
var decisionBuckets = prometheus.ExponentialBuckets(0.00001, 2, 14)

// Metrics are the hub's collectors. The zero value is not usable; call New.
// A nil *Metrics records nothing, for callers that run without metrics.
type Metrics struct {
	registry          *prometheus.Registry
	requestDuration   *prometheus.HistogramVec
	inflight          prometheus.Gauge
	pluginDuration    *prometheus.HistogramVec
	pluginErrors      *prometheus.CounterVec
	decisionDuration  *prometheus.HistogramVec
	validationFailure *prometheus.CounterVec
	auditAppends      *prometheus.CounterVec
	rateLimited       prometheus.Counter
}

// New returns metrics in a fresh registry that also holds the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requestDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "healthhub", Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time from receiving a request's headers to writing its response, by route pattern, method and status code.",
			Buckets: latencyBuckets,
		}, []string{"route", "method", "code"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "healthhub", Subsystem: "http", Name: "requests_in_flight",
			Help: "Requests being served.",
		}),
		pluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "healthhub", Subsystem: "plugin", Name: "call_duration_seconds",
			Help:    "Duration of provider calls, by plugin, provider kind and method.",
			Buckets: latencyBuckets,
		}, []string{"plugin", "kind", "method"}),
		pluginErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthhub", Subsystem: "plugin", Name: "call_errors_total",
			Help: "Provider calls that returned an error, by plugin, provider kind, method and FHIR issue code.",
		}, []string{"plugin", "kind", "method", "code"}),
		decisionDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: "healthhub", Subsystem: "policy", Name: "decision_duration_seconds",
			Help:    "Duration of policy decisions, by result (allow, deny, error).",
			Buckets: decisionBuckets,
		}, []string{"result"}),
		validationFailure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthhub", Subsystem: "schema", Name: "validation_failures_total",
			Help: "Payloads rejected by schema validation, by resource type.",
		}, []string{"resource_type"}),
		auditAppends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "healthhub", Subsystem: "audit", Name: "appends_total",
			Help: "Audit events appended, by result (ok, error).",
		}, []string{"result"}),
		rateLimited: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "healthhub", Subsystem: "http", Name: "rate_limited_total",
			Help: "Requests rejected with 429 by the per-subject rate limit.",
		}),
	}
	m.registry.MustRegister(
		m.requestDuration, m.inflight, m.pluginDuration, m.pluginErrors,
		m.decisionDuration, m.validationFailure, m.auditAppends, m.rateLimited,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// Registry returns the registry, for packages that add collectors of
// their own.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// Handler serves the metrics in the Prometheus exposition formats.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

// ObserveRequest records one HTTP request. route is the ServeMux pattern
// that matched, such as "GET /fhir/{type}/{id}", or "unmatched".
func (m *Metrics) ObserveRequest(route, method string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requestDuration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(elapsed.Seconds())
}

// RequestStarted counts a request in flight until the returned function is
// called.
func (m *Metrics) RequestStarted() (done func()) {
	if m == nil {
		return func() {}
	}
	m.inflight.Inc()
	return m.inflight.Dec
}

// ObservePluginCall records one provider call. code is the FHIR issue code
// of the error, or empty when the call succeeded.
func (m *Metrics) ObservePluginCall(plugin, kind, method, code string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.pluginDuration.WithLabelValues(plugin, kind, method).Observe(elapsed.Seconds())
	if code != "" {
		m.pluginErrors.WithLabelValues(plugin, kind, method, code).Inc()
	}
}

// Decision results for ObservePolicyDecision.
const (
	ResultAllow = "allow"
	ResultDeny  = "deny"
	ResultError = "error"
)

// ObservePolicyDecision records one policy decision with its result:
// ResultAllow, ResultDeny or ResultError.
func (m *Metrics) ObservePolicyDecision(result string, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.decisionDuration.WithLabelValues(result).Observe(elapsed.Seconds())
}

// ValidationFailed counts a payload of resourceType that failed schema
// validation.
func (m *Metrics) ValidationFailed(resourceType string) {
	if m == nil {
		return
	}
	m.validationFailure.WithLabelValues(resourceType).Inc()
}

// AuditAppended counts one audit append; err is its error or nil.
func (m *Metrics) AuditAppended(err error) {
	if m == nil {
		return
	}
	result := "ok"
	if err != nil {
		result = "error"
	}
	m.auditAppends.WithLabelValues(result).Inc()
}

// RateLimited counts a request rejected by the rate limit.
func (m *Metrics) RateLimited() {
	if m == nil {
		return
	}
	m.rateLimited.Inc()
}
