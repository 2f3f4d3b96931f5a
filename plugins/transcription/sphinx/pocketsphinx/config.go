package pocketsphinx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// Default paths are those of the Debian packages pocketsphinx and
// pocketsphinx-en-us (0.8+5prealpha+1-15).
const (
	DefaultProgram       = "pocketsphinx_continuous"
	DefaultAcousticModel = "/usr/share/pocketsphinx/model/en-us/en-us"
	DefaultLanguageModel = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin"
	DefaultDictionary    = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict"
	DefaultLanguage      = "en-US"
	DefaultModelName     = "cmusphinx-en-us"
	// DefaultMaxAudioSeconds is the default limit on the audio length.
	DefaultMaxAudioSeconds = 4 * 60 * 60
)

// Config configures a Transcriber. The JSON form is the plugin's
// configuration object in the hub configuration, and unknown fields are
// rejected. A zero field takes its default.
type Config struct {
	// Program is the pocketsphinx_continuous executable: a path, or a name
	// looked up in PATH. Default "pocketsphinx_continuous".
	Program string `json:"program,omitempty"`
	// AcousticModel is the directory of the acoustic model, passed as
	// -hmm. It must be a 16 kHz model. Default
	// "/usr/share/pocketsphinx/model/en-us/en-us".
	AcousticModel string `json:"acoustic_model,omitempty"`
	// LanguageModel is the n-gram language model file, passed as -lm.
	// Default "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin".
	LanguageModel string `json:"language_model,omitempty"`
	// Dictionary is the pronunciation dictionary file, passed as -dict.
	// Default "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict".
	Dictionary string `json:"dictionary,omitempty"`
	// Language is the BCP 47 tag of the model's language. Requests for
	// another primary language are rejected with ErrNotSupported. Default
	// "en-US".
	Language string `json:"language,omitempty"`
	// ModelName is the name reported in Transcript.Model. A request that
	// names another model is rejected with ErrNotSupported. Default
	// "cmusphinx-en-us".
	ModelName string `json:"model_name,omitempty"`
	// MaxAudioSeconds is the longest audio accepted, in seconds. Longer
	// audio is rejected with ErrTooLarge. Default 14400 (4 hours).
	MaxAudioSeconds int `json:"max_audio_seconds,omitempty"`
	// MaxConcurrent is the maximum number of decoder processes that run at
	// once; further requests wait for a free slot. Each process holds the
	// models in memory: about 105 MB resident for en-us, measured on a
	// 19-second clip. Default: the number of CPUs.
	MaxConcurrent int `json:"max_concurrent,omitempty"`
}

// settings is a Config with the defaults applied.
type settings struct {
	Config
	maxDuration time.Duration
	// slots limits the decoder processes that run at once.
	slots chan struct{}
}

// resolve returns the settings for cfg. It checks the values and returns an
// outcome with the JSON Pointer of each bad one.
func (c Config) resolve() (*settings, error) {
	var issues []sdk.Issue
	if c.MaxAudioSeconds < 0 {
		issues = append(issues, configIssue("/max_audio_seconds", "max_audio_seconds is %d; use a positive number of seconds, or 0 for the default %d", c.MaxAudioSeconds, DefaultMaxAudioSeconds))
	}
	if c.MaxConcurrent < 0 {
		issues = append(issues, configIssue("/max_concurrent", "max_concurrent is %d; use a positive number of processes, or 0 for the number of CPUs", c.MaxConcurrent))
	}
	if c.Language != "" && !validLanguageTag(c.Language) {
		issues = append(issues, configIssue("/language", "language %q is not a BCP 47 tag; use a tag such as en-US", c.Language))
	}
	if len(issues) > 0 {
		return nil, sdk.NewOutcome(issues...)
	}

	s := &settings{Config: c}
	s.Program = orDefault(c.Program, DefaultProgram)
	s.AcousticModel = orDefault(c.AcousticModel, DefaultAcousticModel)
	s.LanguageModel = orDefault(c.LanguageModel, DefaultLanguageModel)
	s.Dictionary = orDefault(c.Dictionary, DefaultDictionary)
	s.Language = orDefault(c.Language, DefaultLanguage)
	s.ModelName = orDefault(c.ModelName, DefaultModelName)
	s.MaxAudioSeconds = intOrDefault(c.MaxAudioSeconds, DefaultMaxAudioSeconds)
	s.MaxConcurrent = intOrDefault(c.MaxConcurrent, runtime.NumCPU())
	s.maxDuration = time.Duration(s.MaxAudioSeconds) * time.Second
	s.slots = make(chan struct{}, s.MaxConcurrent)
	return s, nil
}

func configIssue(path, format string, args ...any) sdk.Issue {
	return sdk.Issue{
		Severity:    sdk.SeverityError,
		Code:        sdk.CodeValue,
		Path:        path,
		Diagnostics: "configure transcription-sphinx: " + fmt.Sprintf(format, args...),
	}
}

// decodeConfig decodes the JSON configuration strictly: unknown fields,
// values of the wrong type and trailing data are errors with the JSON
// Pointer of the setting. Null or empty input is the zero Config.
func decodeConfig(raw json.RawMessage) (Config, error) {
	var c Config
	trimmed := bytes.TrimSpace(raw)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return c, nil
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return Config{}, sdk.Invalidf("", "configure transcription-sphinx: the configuration is not a JSON object: %v", err)
	}
	known := jsonFieldNames(reflect.TypeFor[Config]())
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		if !known[name] {
			return Config{}, sdk.Invalidf("/"+name, "configure transcription-sphinx: unknown setting %q; see config.schema.json for the accepted settings", name)
		}
	}

	if err := json.Unmarshal(trimmed, &c); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Config{}, sdk.Invalidf("/"+typeErr.Field, "configure transcription-sphinx: %s must be a JSON %s, got %s", typeErr.Field, jsonTypeName(typeErr.Type), typeErr.Value)
		}
		return Config{}, sdk.Invalidf("", "configure transcription-sphinx: decode the configuration: %v", err)
	}
	return c, nil
}

// jsonFieldNames returns the JSON names of the fields of struct type t.
func jsonFieldNames(t reflect.Type) map[string]bool {
	names := make(map[string]bool, t.NumField())
	for field := range t.Fields() {
		name, _, _ := strings.Cut(field.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}

func jsonTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	default:
		return t.String()
	}
}

// validLanguageTag does a shallow BCP 47 check: subtags of 1 to 8 letters
// or digits separated by hyphens, the first of 2 to 8 letters.
func validLanguageTag(tag string) bool {
	for i, sub := range strings.Split(tag, "-") {
		if len(sub) < 1 || len(sub) > 8 || (i == 0 && len(sub) < 2) {
			return false
		}
		for _, r := range sub {
			isLetter := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
			if !isLetter && (i == 0 || r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}

// primaryLanguage returns the lowercase primary subtag of a BCP 47 tag.
func primaryLanguage(tag string) string {
	primary, _, _ := strings.Cut(tag, "-")
	return strings.ToLower(primary)
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

func intOrDefault(value, fallback int) int {
	if value == 0 {
		return fallback
	}
	return value
}
