package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// options are the command line settings.
type options struct {
	url       string
	token     string
	clients   int
	duration  time.Duration
	scenarios []string
	maxCount  int64
	floor     bool
	asJSON    bool
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	var scenarios string
	flags := flag.NewFlagSet("hub-bench", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running hub")
	flags.StringVar(&o.token, "token", "", "bearer token or API key for the hub (required), such as the output of hub token issue")
	flags.IntVar(&o.clients, "clients", 32, "concurrent clients, each with one request in flight; 1 measures sequential latency")
	flags.DurationVar(&o.duration, "duration", 10*time.Second, "how long each scenario runs")
	flags.StringVar(&scenarios, "scenarios", "post-patient,get-patient,search", "comma-separated scenarios: post-patient, get-patient, search")
	flags.Int64Var(&o.maxCount, "max-requests", 1_000_000, "stop a scenario after this many requests even if time remains")
	flags.BoolVar(&o.floor, "floor", true, "also measure a trivial net/http handler on 127.0.0.1 with the same clients")
	flags.BoolVar(&o.asJSON, "json", false, "print the results as JSON")
	if err := flags.Parse(args); err != nil {
		return o, err
	}

	o.scenarios = strings.Split(scenarios, ",")
	for _, name := range o.scenarios {
		if _, ok := scenarioPaths[name]; !ok {
			return o, fmt.Errorf("unknown scenario %q: use post-patient, get-patient or search", name)
		}
	}
	switch {
	case o.token == "":
		return o, errors.New("--token is required: issue one with hub token issue --subject bench --role clinician --tenant bench")
	case o.clients < 1:
		return o, fmt.Errorf("--clients %d: must be at least 1", o.clients)
	case o.duration <= 0:
		return o, fmt.Errorf("--duration %s: must be positive", o.duration)
	case o.maxCount < 1:
		return o, fmt.Errorf("--max-requests %d: must be at least 1", o.maxCount)
	}
	return o, nil
}

var scenarioPaths = map[string]string{
	"post-patient": "POST /fhir/Patient",
	"get-patient":  "GET /fhir/Patient/{id}",
	"search":       "GET /fhir/Patient?identifier={system}|{mrn}",
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	client := newClient(o.clients)
	target := &hubTarget{base: strings.TrimRight(o.url, "/"), token: o.token, client: client}

	var results []result
	if o.floor {
		floor, err := measureFloor(ctx, client, o)
		if err != nil {
			return err
		}
		results = append(results, floor)
	}
	for _, name := range o.scenarios {
		request, err := target.scenario(ctx, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "running %s (%s) with %d clients for %s\n", name, scenarioPaths[name], o.clients, o.duration)
		results = append(results, measure(ctx, name, o, request))
	}
	return report(stdout, results, o.asJSON)
}

func newClient(clients int) *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConns = clients * 2
	transport.MaxIdleConnsPerHost = clients * 2
	transport.MaxConnsPerHost = clients * 2
	return &http.Client{Transport: transport, Timeout: 30 * time.Second}
}

// requestFunc sends one request and returns its status.
type requestFunc func(ctx context.Context, client int) (int, error)

// measureFloor serves a trivial handler on a loopback port of its own and
// drives it like the hub, to show what the machine and net/http cost alone.
func measureFloor(ctx context.Context, client *http.Client, o options) (result, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, fmt.Errorf("listen for the floor server: %w", err)
	}
	body := []byte(`{"resourceType":"Patient","id":"floor"}`)
	server := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = server.Serve(ln) }()
	defer server.Close()

	address := "http://" + ln.Addr().String() + "/fhir/Patient/floor"
	request := func(ctx context.Context, _ int) (int, error) {
		return send(ctx, client, http.MethodGet, address, "", nil)
	}
	return measure(ctx, "floor (net/http)", o, request), nil
}

// measure runs request from o.clients goroutines until the duration or the
// request count runs out.
func measure(ctx context.Context, name string, o options, request requestFunc) result {
	ctx, cancel := context.WithTimeout(ctx, o.duration)
	defer cancel()
	var count atomic.Int64
	latencies := make([][]time.Duration, o.clients)
	statuses := make([]map[string]int, o.clients)

	start := time.Now()
	var wg sync.WaitGroup
	for client := range o.clients {
		statuses[client] = map[string]int{}
		wg.Go(func() {
			for ctx.Err() == nil && count.Add(1) <= o.maxCount {
				began := time.Now()
				status, err := request(ctx, client)
				if ctx.Err() != nil {
					return
				}
				latencies[client] = append(latencies[client], time.Since(began))
				statuses[client][statusKey(status, err)]++
			}
		})
	}
	wg.Wait()
	return summarize(name, o.clients, time.Since(start), latencies, statuses)
}

func statusKey(status int, err error) string {
	if err != nil {
		return "error"
	}
	return fmt.Sprint(status)
}

// send issues one request, drains the body and returns the status.
func send(ctx context.Context, client *http.Client, method, target, token string, body []byte) (int, error) {
	var reader io.Reader
	if body != nil {
		reader = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, reader)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// hubTarget builds the requests of the hub scenarios.
type hubTarget struct {
	base   string
	token  string
	client *http.Client
	serial atomic.Int64
}

func (h *hubTarget) scenario(ctx context.Context, name string) (requestFunc, error) {
	switch name {
	case "post-patient":
		return func(ctx context.Context, client int) (int, error) {
			return send(ctx, h.client, http.MethodPost, h.base+"/fhir/Patient", h.token, h.patient())
		}, nil
	case "get-patient":
		id, err := h.createPatient(ctx)
		if err != nil {
			return nil, err
		}
		target := h.base + "/fhir/Patient/" + url.PathEscape(id)
		return func(ctx context.Context, _ int) (int, error) {
			return send(ctx, h.client, http.MethodGet, target, h.token, nil)
		}, nil
	default:
		mrn, err := h.createPatientWithMRN(ctx)
		if err != nil {
			return nil, err
		}
		target := h.base + "/fhir/Patient?identifier=" + url.QueryEscape(mrnSystem+"|"+mrn)
		return func(ctx context.Context, _ int) (int, error) {
			return send(ctx, h.client, http.MethodGet, target, h.token, nil)
		}, nil
	}
}

// mrnSystem is the identifier system of the medical record numbers the
// benchmark patients carry.
const mrnSystem = "https://bench.healthhub.local/mrn"

// patient returns a Patient resource of about 600 bytes with a unique
// medical record number, shaped like the Synthea patients the hub imports.
func (h *hubTarget) patient() []byte {
	body, _ := h.patientWithMRN()
	return body
}

func (h *hubTarget) patientWithMRN() ([]byte, string) {
	mrn := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), h.serial.Add(1))
	return fmt.Appendf(nil, `{"resourceType":"Patient",`+
		`"identifier":[{"system":%q,"value":%q}],`+
		`"active":true,"name":[{"use":"official","family":"Benchmark","given":["Load","Tester"],"prefix":["Mx."]}],`+
		`"telecom":[{"system":"phone","value":"555-0100","use":"home"}],"gender":"unknown","birthDate":"1970-01-01",`+
		`"address":[{"line":["1 Test Street"],"city":"Springfield","state":"MA","postalCode":"01101","country":"US"}],`+
		`"maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"S"}]},`+
		`"communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"en-US"}]}}]}`, mrnSystem, mrn), mrn
}

// createPatientWithMRN posts one Patient and returns its medical record
// number.
func (h *hubTarget) createPatientWithMRN(ctx context.Context) (string, error) {
	body, mrn := h.patientWithMRN()
	_, err := h.post(ctx, body)
	return mrn, err
}

// createPatient posts one Patient and returns the id the hub assigned.
func (h *hubTarget) createPatient(ctx context.Context) (string, error) {
	return h.post(ctx, h.patient())
}

func (h *hubTarget) post(ctx context.Context, patient []byte) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.base+"/fhir/Patient", bytes.NewReader(patient))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := h.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("create the Patient to read: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("create the Patient to read: status %s: %s", resp.Status, body)
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.ID == "" {
		return "", fmt.Errorf("create the Patient to read: response has no id: %s", body)
	}
	return created.ID, nil
}

// result is one scenario's figures.
type result struct {
	Name       string         `json:"name"`
	Clients    int            `json:"clients"`
	Requests   int            `json:"requests"`
	Statuses   map[string]int `json:"statuses"`
	Seconds    float64        `json:"seconds"`
	Throughput float64        `json:"requests_per_second"`
	P50        time.Duration  `json:"p50_ns"`
	P90        time.Duration  `json:"p90_ns"`
	P99        time.Duration  `json:"p99_ns"`
	Max        time.Duration  `json:"max_ns"`
}

func summarize(name string, clients int, elapsed time.Duration, latencies [][]time.Duration, statuses []map[string]int) result {
	all := slices.Concat(latencies...)
	slices.Sort(all)
	merged := map[string]int{}
	for _, perClient := range statuses {
		for status, n := range perClient {
			merged[status] += n
		}
	}
	r := result{Name: name, Clients: clients, Requests: len(all), Statuses: merged, Seconds: elapsed.Seconds()}
	if elapsed > 0 {
		r.Throughput = float64(len(all)) / elapsed.Seconds()
	}
	r.P50, r.P90, r.P99 = percentile(all, 50), percentile(all, 90), percentile(all, 99)
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	return r
}

// percentile returns the nearest-rank percentile p of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

func report(w io.Writer, results []result, asJSON bool) error {
	if asJSON {
		encoder := json.NewEncoder(w)
		encoder.SetIndent("", "  ")
		return encoder.Encode(results)
	}
	table := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(table, "scenario\tclients\trequests\treq/s\tp50\tp90\tp99\tmax\tstatuses\t")
	for _, r := range results {
		fmt.Fprintf(table, "%s\t%d\t%d\t%.0f\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, r.Clients, r.Requests, r.Throughput,
			round(r.P50), round(r.P90), round(r.P99), round(r.Max), formatStatuses(r.Statuses))
	}
	return table.Flush()
}

func round(d time.Duration) string {
	return d.Round(time.Microsecond).String()
}

func formatStatuses(statuses map[string]int) string {
	keys := make([]string, 0, len(statuses))
	for key := range statuses {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, key := range keys {
		parts[i] = fmt.Sprintf("%s:%d", key, statuses[key])
	}
	return strings.Join(parts, " ")
}
