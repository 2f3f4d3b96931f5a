package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthhub/healthhub/core/plugin/plugintest"
	"github.com/healthhub/healthhub/internal/hubtest"
	"github.com/healthhub/healthhub/plugins/internal/fhirtest"
	"github.com/healthhub/healthhub/plugins/internal/kservetest"
	"github.com/healthhub/healthhub/plugins/internal/openaitest"
)

// The canary patient's planted values. Each is distinctive enough that
// finding it in a vendor's traffic or a log line can only mean a leak.
const (
	canaryGiven  = "Zephyrine"
	canaryFamily = "Quillfeather"
	canaryMRN    = "MRN-CANARY-73519"
	canaryPhone  = "617-555-0199"
	canaryBirth  = "1931-11-23"
)

// canaryValues are the planted values in every form they could take on
// the wire: as written, in DICOM's date form, and the phone's digits.
var canaryValues = []string{canaryGiven, canaryFamily, canaryMRN, canaryPhone, canaryBirth, "19311123", "6175550199", "CANARY-73519"}

// Host names of the vendor services. They are not loopback names, so the
// plugins declare egress; the recording proxy sends their traffic to the
// loopback test servers.
const (
	llmHost    = "api.llm.canary.test"
	sttHost    = "api.stt.canary.test"
	kserveHost = "models.canary.test"
	ehrHost    = "ehr.canary.test"
)

var (
	providerPluginsOnce sync.Once
	providerPluginsDir  string
	providerPluginsErr  error
)

// providerPlugins builds every plugin the provider routes use into one
// plugin directory, once for the package.
func providerPlugins(t testing.TB) string {
	t.Helper()
	providerPluginsOnce.Do(func() {
		providerPluginsDir = filepath.Join(filepath.Dir(hubBinary), "provider-plugins")
		for _, src := range []string{"plugins/storage/fs", "plugins/llm/openai", "plugins/transcription/openai", "plugins/imaging/dicom", "plugins/imaging/kserve", "plugins/ehr/fhir"} {
			if _, providerPluginsErr = plugintest.Build(src, providerPluginsDir); providerPluginsErr != nil {
				return
			}
		}
	})
	require.NoError(t, providerPluginsErr)
	return providerPluginsDir
}

// recordingProxy is an HTTP forward proxy on loopback that records every
// request it receives, headers and body, and forwards it to the test
// server of its host. failNext makes a host's next requests fail.
type recordingProxy struct {
	*httptest.Server
	mu      sync.Mutex
	routes  map[string]*url.URL
	records []string
	failing map[string]int
	// quiet turns recording off, for benchmarks.
	quiet bool
}

func newRecordingProxy(t testing.TB, routes map[string]string) *recordingProxy {
	t.Helper()
	p := &recordingProxy{routes: map[string]*url.URL{}, failing: map[string]int{}}
	for host, target := range routes {
		u, err := url.Parse(target)
		require.NoError(t, err)
		p.routes[host] = u
	}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) serve(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Hostname()
	p.mu.Lock()
	if !p.quiet {
		dump, err := httputil.DumpRequest(r, true)
		if err != nil {
			p.mu.Unlock()
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		p.records = append(p.records, string(dump))
	}
	target := p.routes[host]
	fail := p.failing[host] > 0
	if fail {
		p.failing[host]--
	}
	p.mu.Unlock()

	if fail {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"error":{"message":"The server is overloaded.","type":"server_error"}}`)
		return
	}
	if target == nil {
		http.Error(w, "no route for "+host, http.StatusBadGateway)
		return
	}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = target.Host
	}, FlushInterval: -1, ModifyResponse: func(resp *http.Response) error {
		return rewriteLinks(resp, target, host)
	}}
	proxy.ServeHTTP(w, r)
}

// rewriteLinks replaces the test server's own URL in a JSON response by
// the vendor host's, as a server behind a real proxy would write its
// links (a FHIR search's next link, say). Streams pass untouched.
func rewriteLinks(resp *http.Response, target *url.URL, host string) error {
	if !strings.Contains(resp.Header.Get("Content-Type"), "json") {
		return nil
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	body = bytes.ReplaceAll(body, []byte(target.Scheme+"://"+target.Host), []byte("http://"+host))
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return nil
}

// failNext makes the next n requests to host fail with 503.
func (p *recordingProxy) failNext(host string, n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failing[host] = n
}

func (p *recordingProxy) recorded() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.records...)
}

// recordsFor returns the recorded requests whose request line names path.
func (p *recordingProxy) recordsFor(path string) []string {
	var out []string
	for _, record := range p.recorded() {
		if line, _, _ := strings.Cut(record, "\r\n"); strings.Contains(line, path) {
			out = append(out, record)
		}
	}
	return out
}

// leakedCanaries returns the planted values found in text, ignoring
// case, also inside base64 strings of a JSON body (an image sent as a
// KServe BYTES tensor, say).
func leakedCanaries(text string) []string {
	haystacks := []string{strings.ToLower(text)}
	for _, decoded := range decodedStrings(text) {
		haystacks = append(haystacks, strings.ToLower(decoded))
	}
	var found []string
	for _, value := range canaryValues {
		for _, haystack := range haystacks {
			if strings.Contains(haystack, strings.ToLower(value)) {
				found = append(found, value)
				break
			}
		}
	}
	return found
}

// decodedStrings returns the base64 strings of a JSON body, decoded.
func decodedStrings(record string) []string {
	_, body, _ := strings.Cut(record, "\r\n\r\n")
	var doc any
	if json.Unmarshal([]byte(body), &doc) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch node := v.(type) {
		case string:
			if len(node) >= 16 {
				if data, err := base64.StdEncoding.DecodeString(node); err == nil {
					out = append(out, string(data))
				}
			}
		case map[string]any:
			for _, child := range node {
				walk(child)
			}
		case []any:
			for _, child := range node {
				walk(child)
			}
		}
	}
	walk(doc)
	return out
}

// vendorServers are the loopback test servers behind the proxy.
type vendorServers struct {
	openai *openaitest.Server
	kserve *kservetest.Server
	fhir   *fhirtest.Server
	proxy  *recordingProxy
}

func startVendors(t testing.TB) *vendorServers {
	t.Helper()
	v := &vendorServers{
		openai: openaitest.New("sk-canary", "gpt-canary", "whisper-1"),
		kserve: kservetest.New(&kservetest.Model{
			Name:    "chest-xray",
			Inputs:  []kservetest.TensorSpec{{Name: "image", Datatype: "BYTES", Shape: []int64{1}}},
			Outputs: []kservetest.TensorSpec{{Name: "scores", Datatype: "FP32", Shape: []int64{1, 2}}},
			Infer: func(inputs []kservetest.Tensor) ([]kservetest.Tensor, error) {
				return []kservetest.Tensor{{Name: "scores", Datatype: "FP32", Shape: []int64{1, 2}, Values: []float64{0.3, 0.7}}}, nil
			},
		}),
		fhir: fhirtest.New(),
	}
	t.Cleanup(v.openai.Close)
	t.Cleanup(v.kserve.Close)
	t.Cleanup(v.fhir.Close)
	v.proxy = newRecordingProxy(t, map[string]string{llmHost: v.openai.URL, sttHost: v.openai.URL, kserveHost: v.kserve.URL, ehrHost: v.fhir.URL})
	return v
}

// hubConfig configures every provider plugin to a vendor host without a
// BAA, in an allowed region, and fast job retries.
func (v *vendorServers) hubConfig(t testing.TB, pluginsDir string) string {
	t.Helper()
	dataUse := map[string]any{"region": "us-east-1", "baa": false, "retention_days": 0}
	cfg := map[string]any{
		"logging":    map[string]any{"level": "debug"},
		"policy":     map[string]any{"allowed_regions": []string{"us-east-1"}},
		"jobs":       map[string]any{"max_attempts": 3, "retry_backoff": "2s", "poll_interval": "200ms"},
		"operations": map[string]any{"ehr_page_size": 5},
		"plugins": map[string]any{
			"dir": pluginsDir,
			"plugins": map[string]any{
				"llm-openai": map[string]any{"endpoint": "http://" + llmHost + "/v1", "api_key": "sk-canary", "model": "gpt-canary",
					"allow_insecure_http": true, "data_use": dataUse},
				"transcription-openai": map[string]any{"endpoint": "http://" + sttHost + "/v1", "api_key": "sk-canary", "model": "whisper-1",
					"allow_insecure_http": true, "data_use": dataUse},
				"imaging-kserve": map[string]any{"endpoint": "http://" + kserveHost, "model": "chest-xray", "allow_insecure_http": true,
					"input":    map[string]any{"name": "image", "encoding": "bytes"},
					"output":   map[string]any{"name": "scores", "labels": []map[string]string{{"system": "http://snomed.info/sct", "code": "17621005", "display": "Normal"}, {"system": "http://snomed.info/sct", "code": "263654008", "display": "Abnormal"}}},
					"data_use": dataUse},
				"ehr-fhir": map[string]any{"base_url": "http://" + ehrHost + "/fhir", "allow_insecure_http": true, "data_use": dataUse},
			},
		},
	}
	data, err := json.Marshal(cfg)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "hub.yaml")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	return path
}

// startConfiguredHub starts "hub serve --config" on dataDir with the proxy
// in HTTP_PROXY, which the plugin processes inherit.
func startConfiguredHub(t *testing.T, dataDir, configPath, proxyURL string) *hubtest.Hub {
	t.Helper()
	return hubtest.Start(t, hubBinary, dataDir, []string{"--config", configPath},
		"HTTP_PROXY="+proxyURL, "http_proxy="+proxyURL, "NO_PROXY=", "no_proxy=")
}

// canaryPatient returns the Patient of a Synthea record with the planted
// name, MRN, phone number and birth date.
func canaryPatient(t *testing.T) map[string]any {
	t.Helper()
	patient := syntheaResources(t, "Patient")[0]
	delete(patient, "id")
	delete(patient, "text")
	patient["name"] = []any{map[string]any{"use": "official", "family": canaryFamily, "given": []any{canaryGiven}}}
	patient["birthDate"] = canaryBirth
	patient["telecom"] = []any{map[string]any{"system": "phone", "value": canaryPhone, "use": "home"}}
	identifiers := []any{}
	for _, item := range patient["identifier"].([]any) {
		identifier := item.(map[string]any)
		kind, _ := identifier["type"].(map[string]any)
		if text, _ := kind["text"].(string); text == "Medical Record Number" {
			identifier["value"] = canaryMRN
		}
		identifiers = append(identifiers, identifier)
	}
	patient["identifier"] = identifiers
	require.Contains(t, mustJSON(t, patient), canaryMRN, "the Synthea patient has a medical record number to plant")
	return patient
}

// syntheaResources returns the resources of one type from the Synthea
// record of Bob965 Keeling57.
func syntheaResources(t *testing.T, resourceType string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile("../../testdata/synthea-r4/Bob965_Keeling57_3f6fd0bb-6cd3-eb3f-4401-cd38ace25f2b.json")
	require.NoError(t, err)
	var bundle struct {
		Entry []struct {
			Resource map[string]any `json:"resource"`
		} `json:"entry"`
	}
	require.NoError(t, json.Unmarshal(data, &bundle))
	var out []map[string]any
	for _, entry := range bundle.Entry {
		if entry.Resource["resourceType"] == resourceType {
			out = append(out, entry.Resource)
		}
	}
	require.NotEmpty(t, out)
	return out
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// createResource posts a resource and returns its id.
func createResource(t *testing.T, h *hubtest.Hub, token string, resource map[string]any) string {
	t.Helper()
	status, body := h.Call(t, http.MethodPost, "/fhir/"+resource["resourceType"].(string), token, nil, []byte(mustJSON(t, resource)))
	require.Equal(t, http.StatusCreated, status, string(body))
	var created struct {
		ID string `json:"id"`
	}
	require.NoError(t, json.Unmarshal(body, &created))
	return created.ID
}

// canaryRecord stores the canary patient with an Immunization whose note
// names them and two Observations, and returns their references.
func canaryRecord(t *testing.T, h *hubtest.Hub, token string) (string, []string) {
	t.Helper()
	patientID := createResource(t, h, token, canaryPatient(t))
	subject := map[string]any{"reference": "Patient/" + patientID}

	immunization := syntheaResources(t, "Immunization")[0]
	delete(immunization, "id")
	delete(immunization, "encounter")
	delete(immunization, "location")
	immunization["patient"] = subject
	immunization["note"] = []any{map[string]any{"text": fmt.Sprintf("%s %s (MRN %s) called from %s, born %s.", canaryGiven, canaryFamily, canaryMRN, canaryPhone, canaryBirth)}}
	references := []string{"Immunization/" + createResource(t, h, token, immunization)}
	for _, observation := range syntheaResources(t, "Observation")[:2] {
		delete(observation, "id")
		delete(observation, "encounter")
		observation["subject"] = subject
		references = append(references, "Observation/"+createResource(t, h, token, observation))
	}
	return "Patient/" + patientID, references
}

// toneWAV returns one second of a 440 Hz tone as 16 kHz mono 16-bit WAV,
// with a LIST/INFO chunk naming the canary patient when tagged.
func toneWAV(tagged bool) []byte {
	const rate = 16000
	var samples bytes.Buffer
	for i := range rate {
		_ = binary.Write(&samples, binary.LittleEndian, int16(8000*math.Sin(2*math.Pi*440*float64(i)/rate)))
	}
	var format bytes.Buffer
	_ = binary.Write(&format, binary.LittleEndian, struct {
		Format, Channels       uint16
		Rate, ByteRate         uint32
		BlockAlign, SampleBits uint16
	}{1, 1, rate, rate * 2, 2, 16})
	chunks := []struct {
		id   string
		body []byte
	}{{"fmt ", format.Bytes()}}
	if tagged {
		name := canaryGiven + " " + canaryFamily + " " + canaryMRN + "\x00"
		if len(name)%2 == 1 {
			name += "\x00"
		}
		var info bytes.Buffer
		info.WriteString("INFO")
		info.WriteString("INAM")
		_ = binary.Write(&info, binary.LittleEndian, uint32(len(name)))
		info.WriteString(name)
		chunks = append(chunks, struct {
			id   string
			body []byte
		}{"LIST", info.Bytes()})
	}
	chunks = append(chunks, struct {
		id   string
		body []byte
	}{"data", samples.Bytes()})

	var body bytes.Buffer
	body.WriteString("WAVE")
	for _, chunk := range chunks {
		body.WriteString(chunk.id)
		_ = binary.Write(&body, binary.LittleEndian, uint32(len(chunk.body)))
		body.Write(chunk.body)
	}
	var out bytes.Buffer
	out.WriteString("RIFF")
	_ = binary.Write(&out, binary.LittleEndian, uint32(body.Len()))
	out.Write(body.Bytes())
	return out.Bytes()
}

// canaryDICOM returns CT_small.dcm with the canary patient's name, id and
// birth date planted in its patient module.
func canaryDICOM(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile("../../testdata/dicom/CT_small.dcm")
	require.NoError(t, err)
	data = setDICOMElement(t, data, 0x0010, 0x0010, "PN", "QUILLFEATHER^ZEPHYRINE")
	data = setDICOMElement(t, data, 0x0010, 0x0020, "LO", canaryMRN)
	return setDICOMElement(t, data, 0x0010, 0x0030, "DA", "19311123")
}

// setDICOMElement replaces the value of an explicit VR little endian
// element with a short length field.
func setDICOMElement(t *testing.T, data []byte, group, element uint16, vr, value string) []byte {
	t.Helper()
	var tag bytes.Buffer
	_ = binary.Write(&tag, binary.LittleEndian, [2]uint16{group, element})
	tag.WriteString(vr)
	at := bytes.Index(data, tag.Bytes())
	require.GreaterOrEqual(t, at, 0, "element (%04X,%04X) is in the file", group, element)
	if len(value)%2 == 1 {
		value += " "
	}
	oldLength := int(binary.LittleEndian.Uint16(data[at+6 : at+8]))
	var out bytes.Buffer
	out.Write(data[:at+6])
	_ = binary.Write(&out, binary.LittleEndian, uint16(len(value)))
	out.WriteString(value)
	out.Write(data[at+8+oldLength:])
	return out.Bytes()
}

// taggedPNG returns an 8x8 gray PNG with a tEXt chunk that names the
// canary patient, as some scanners and screenshot tools write.
func taggedPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 4)
	}
	var plain bytes.Buffer
	require.NoError(t, png.Encode(&plain, img))
	data := plain.Bytes()
	// The tEXt chunk goes right after IHDR: 8 bytes of signature, then
	// IHDR's length, type, 13 bytes of data and CRC.
	at := 8 + 4 + 4 + 13 + 4
	text := []byte("Author\x00" + canaryGiven + " " + canaryFamily + " " + canaryMRN)
	var chunk bytes.Buffer
	_ = binary.Write(&chunk, binary.BigEndian, uint32(len(text)))
	chunk.WriteString("tEXt")
	chunk.Write(text)
	_ = binary.Write(&chunk, binary.BigEndian, crc32.ChecksumIEEE(append([]byte("tEXt"), text...)))
	out := append(append(append([]byte{}, data[:at]...), chunk.Bytes()...), data[at:]...)
	_, err := png.Decode(bytes.NewReader(out))
	require.NoError(t, err, "the tagged PNG stays valid")
	require.NotEmpty(t, leakedCanaries(string(out)))
	return out
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// readEvents reads events from an event stream and sends each as soon as
// it is complete.
func readEvents(r io.Reader, events chan<- sseEvent) {
	defer close(events)
	scanner := bufio.NewScanner(r)
	var current sseEvent
	for scanner.Scan() {
		line := scanner.Text()
		switch {
		case line == "":
			if current.name != "" || current.data != "" {
				events <- current
			}
			current = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			current.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			current.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func TestCanaryPatientNeverLeavesTheHub(t *testing.T) {
	plugins := providerPlugins(t)
	vendors := startVendors(t)
	hub := startConfiguredHub(t, t.TempDir(), vendors.hubConfig(t, plugins), vendors.proxy.URL)
	clinician := hub.CLI(t, "token", "issue", "--subject", "dr-lee", "--role", "clinician", "--tenant", "north", "--scope", "user/*.cruds")
	patient, record := canaryRecord(t, hub, clinician)
	question := fmt.Sprintf("Summarize the record of %s %s, MRN %s, phone %s, born %s.", canaryGiven, canaryFamily, canaryMRN, canaryPhone, canaryBirth)

	t.Run("chat with patient context", func(t *testing.T) {
		body := mustJSON(t, map[string]any{"patient": patient, "messages": []any{map[string]string{"role": "user", "content": question}}})
		status, resp := hub.Call(t, http.MethodPost, "/v1/chat", clinician, map[string]string{"Content-Type": "application/json"}, []byte(body))
		require.Equal(t, http.StatusOK, status, string(resp))
		var reply struct {
			Message struct {
				Content string `json:"content"`
			} `json:"message"`
			AuditID string `json:"audit_id"`
		}
		require.NoError(t, json.Unmarshal(resp, &reply))
		assert.Equal(t, "You said: "+question, reply.Message.Content, "the reply's pseudonyms are mapped back to the real values")
		assert.NotEmpty(t, reply.AuditID)

		sent := vendors.openai.LastChat()
		require.NotNil(t, sent)
		require.Len(t, sent.Messages, 2, "the patient's context and the question")
		assert.Contains(t, sent.Messages[0].Content, `"resourceType":"Immunization"`, "the context carries the patient's resources")
		assert.Contains(t, sent.Messages[0].Content, `"resourceType":"Observation"`)
		assert.NotContains(t, sent.Messages[1].Content, canaryGiven)
	})

	t.Run("chat streamed token by token", func(t *testing.T) {
		vendors.openai.Hold = make(chan struct{})
		defer func() { vendors.openai.Hold = nil }()
		body := mustJSON(t, map[string]any{"patient": patient, "stream": true, "messages": []any{map[string]string{"role": "user", "content": question}}})
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub.BaseURL+"/v1/chat", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+clinician)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, "no", resp.Header.Get("X-Accel-Buffering"))
		assert.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream"))

		events := make(chan sseEvent)
		go readEvents(resp.Body, events)
		first := <-events
		assert.Equal(t, "delta", first.name, "a piece arrives while the vendor still holds the last token")
		close(vendors.openai.Hold)

		var reply strings.Builder
		var piece struct {
			Content string `json:"content"`
		}
		require.NoError(t, json.Unmarshal([]byte(first.data), &piece))
		reply.WriteString(piece.Content)
		var done struct {
			AuditID string `json:"audit_id"`
			Usage   struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		for event := range events {
			switch event.name {
			case "delta":
				require.NoError(t, json.Unmarshal([]byte(event.data), &piece))
				reply.WriteString(piece.Content)
			case "done":
				require.NoError(t, json.Unmarshal([]byte(event.data), &done))
			default:
				t.Fatalf("unexpected event %s: %s", event.name, event.data)
			}
		}
		assert.Equal(t, "You said: "+question, reply.String())
		assert.NotEmpty(t, done.AuditID)
		assert.Positive(t, done.Usage.TotalTokens)
	})

	t.Run("transcription with tagged audio and prompt", func(t *testing.T) {
		vendors.openai.AddTranscript(sha256Hex(toneWAV(false)), "Patient reports a mild headache since Tuesday.")
		var form bytes.Buffer
		writer := multipart.NewWriter(&form)
		require.NoError(t, writer.WriteField("patient", patient))
		require.NoError(t, writer.WriteField("language", "en"))
		require.NoError(t, writer.WriteField("prompt", "Dictation about "+canaryGiven+" "+canaryFamily+", "+canaryMRN))
		part, err := writer.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="visit.wav"`}, "Content-Type": {"audio/wav"}})
		require.NoError(t, err)
		_, err = part.Write(toneWAV(true))
		require.NoError(t, err)
		require.NoError(t, writer.Close())

		status, resp := hub.Call(t, http.MethodPost, "/v1/transcriptions", clinician, map[string]string{"Content-Type": writer.FormDataContentType()}, form.Bytes())
		require.Equal(t, http.StatusCreated, status, string(resp))
		var result struct {
			Transcript struct {
				Text string `json:"text"`
			} `json:"transcript"`
			DocumentReference map[string]any `json:"document_reference"`
		}
		require.NoError(t, json.Unmarshal(resp, &result))
		assert.Equal(t, "Patient reports a mild headache since Tuesday.", result.Transcript.Text, "the vendor received the audio without its LIST chunk")
		assert.Equal(t, patient, result.DocumentReference["subject"].(map[string]any)["reference"])
		assert.NotEmpty(t, result.DocumentReference["id"])
		sent := vendors.openai.LastTranscription()
		require.NotNil(t, sent)
		assert.Contains(t, sent.Prompt, "Dictation about", "the prompt is scrubbed, not dropped")
	})

	t.Run("imaging study and analysis", func(t *testing.T) {
		status, resp := hub.Call(t, http.MethodPost, "/v1/imaging/studies?patient="+url.QueryEscape(patient), clinician, map[string]string{"Content-Type": "application/dicom"}, canaryDICOM(t))
		require.Equal(t, http.StatusCreated, status, string(resp))
		var study struct {
			ImagingStudy map[string]any `json:"imaging_study"`
			PreviewURL   string         `json:"preview_url"`
		}
		require.NoError(t, json.Unmarshal(resp, &study))
		assert.Equal(t, patient, study.ImagingStudy["subject"].(map[string]any)["reference"])
		assert.NotEmpty(t, study.PreviewURL)

		var form bytes.Buffer
		writer := multipart.NewWriter(&form)
		require.NoError(t, writer.WriteField("patient", patient))
		require.NoError(t, writer.WriteField("provider", "imaging-kserve"))
		part, err := writer.CreatePart(map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="chest.png"`}, "Content-Type": {"image/png"}})
		require.NoError(t, err)
		_, err = part.Write(taggedPNG(t))
		require.NoError(t, err)
		require.NoError(t, writer.Close())
		status, resp = hub.Call(t, http.MethodPost, "/v1/imaging/analyses", clinician, map[string]string{"Content-Type": writer.FormDataContentType()}, form.Bytes())
		require.Equal(t, http.StatusCreated, status, string(resp))
		var analysis struct {
			DiagnosticReport map[string]any   `json:"diagnostic_report"`
			Observations     []map[string]any `json:"observations"`
		}
		require.NoError(t, json.Unmarshal(resp, &analysis))
		assert.Equal(t, patient, analysis.DiagnosticReport["subject"].(map[string]any)["reference"], "the stored report names the real patient")
		require.Len(t, analysis.Observations, 2)
		for _, observation := range analysis.Observations {
			assert.Equal(t, patient, observation["subject"].(map[string]any)["reference"])
		}
		inputs := vendors.kserve.LastInputs()
		require.Len(t, inputs, 1)
		require.Len(t, inputs[0].Bytes, 1)
		assert.Empty(t, leakedCanaries(string(inputs[0].Bytes[0])), "the model server got the image without its text chunk")
	})

	t.Run("ehr push as a job", func(t *testing.T) {
		service := hub.CLI(t, "token", "issue", "--subject", "feed", "--role", "service", "--tenant", "north", "--scope", "system/*.cruds")
		body := mustJSON(t, map[string]any{"resources": append([]string{patient}, record...)})
		status, resp := hub.Call(t, http.MethodPost, "/v1/ehr/ehr-fhir/push", service, map[string]string{"Content-Type": "application/json"}, []byte(body))
		require.Equal(t, http.StatusAccepted, status, string(resp))
		job := waitJob(t, hub, service, resp)
		require.Equal(t, "succeeded", job.Status, "errors: %s", job.Errors)
		assert.Equal(t, 4, job.Progress.Done)
		require.Len(t, job.Progress.External, 4)

		pushed := vendors.proxy.recordsFor("/fhir/Patient")
		require.NotEmpty(t, pushed)
		_, patientBody, _ := strings.Cut(pushed[len(pushed)-1], "\r\n\r\n")
		var sentPatient map[string]any
		require.NoError(t, json.Unmarshal([]byte(patientBody), &sentPatient))
		assert.NotContains(t, sentPatient, "name", "the Patient leaves without its name")
		assert.NotContains(t, sentPatient, "telecom")
		assert.Equal(t, "1931", sentPatient["birthDate"], "the birth date is cut to its year")
	})

	t.Run("audit records every provider call", func(t *testing.T) {
		admin := hub.CLI(t, "token", "issue", "--subject", "ops", "--role", "admin", "--tenant", "north")
		status, resp := hub.Call(t, http.MethodGet, "/v1/audit?_count=500", admin, nil, nil)
		require.Equal(t, http.StatusOK, status, string(resp))
		providers := map[string]bool{}
		var audit struct {
			Entry []struct {
				Resource map[string]any `json:"resource"`
			} `json:"entry"`
		}
		require.NoError(t, json.Unmarshal(resp, &audit))
		text := string(resp)
		for _, name := range []string{"llm-openai", "transcription-openai", "imaging-dicom", "imaging-kserve", "ehr-fhir"} {
			providers[name] = strings.Contains(text, name)
		}
		for name, seen := range providers {
			assert.True(t, seen, "the audit trail names %s", name)
		}
		assert.Contains(t, text, "egress.deidentify", "the obligations applied are recorded")
	})

	records := vendors.proxy.recorded()
	for _, host := range []string{llmHost, sttHost, kserveHost, ehrHost} {
		assert.Contains(t, strings.Join(records, "\n"), "http://"+host+"/", "the proxy saw the traffic to %s", host)
	}
	for _, record := range records {
		line, _, _ := strings.Cut(record, "\r\n")
		assert.Empty(t, leakedCanaries(record), "planted values reached a vendor in %s", line)
	}
	hub.Stop(t)
	for _, line := range strings.Split(hub.Logs(), "\n") {
		assert.Empty(t, leakedCanaries(line), "planted values in a log line: %s", line)
	}
}

// jobState is the part of a job the tests read.
type jobState struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Attempt  int    `json:"attempt"`
	Progress struct {
		Resources []string `json:"resources"`
		External  []string `json:"external"`
		Done      int      `json:"done"`
	} `json:"progress"`
	Resources []map[string]any `json:"resources"`
	Errors    jsonList         `json:"errors"`
}

// jsonList keeps JSON items as they came and prints them as text.
type jsonList []json.RawMessage

func (l jsonList) String() string {
	parts := make([]string, len(l))
	for i, item := range l {
		parts[i] = string(item)
	}
	return strings.Join(parts, ", ")
}

// waitJob polls the job of a 202 response until it ends.
func waitJob(t *testing.T, h *hubtest.Hub, token string, accepted []byte) jobState {
	t.Helper()
	var queued struct {
		JobURL string `json:"job_url"`
	}
	require.NoError(t, json.Unmarshal(accepted, &queued))
	path := strings.TrimPrefix(queued.JobURL, h.BaseURL)
	require.True(t, strings.HasPrefix(path, "/v1/jobs/"), queued.JobURL)
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		status, body := h.Call(t, http.MethodGet, path, token, nil, nil)
		require.Equal(t, http.StatusOK, status, string(body))
		var job jobState
		require.NoError(t, json.Unmarshal(body, &job))
		if job.Status == "succeeded" || job.Status == "failed" {
			return job
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("job %s did not end within 90s", path)
	return jobState{}
}
