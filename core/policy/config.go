package policy

import (
	"fmt"
	"time"
)

// Config configures an Engine and the settings the policies read. The
// settings marked "policy setting" reach the policies as the data document
// data.healthhub.config; the rest configure the engine and the CLI.
type Config struct {
	// Dir is the policy directory: every *.rego file below it is loaded,
	// *_test.rego files as tests. Empty means the embedded default policies.
	Dir string `json:"dir"`
	// Watch reloads the policies when a file below Dir changes. Ignored when
	// Dir is empty. Default false.
	Watch bool `json:"watch"`
	// MinCoverage is the Rego test line coverage, in percent (0 to 100),
	// below which `hub policy test` fails. Zero means the default, 90.
	MinCoverage float64 `json:"min_coverage"`
	// AllowedRegions lists the provider regions (DataUse.Region, such as
	// "us-east-1") that data may be sent to. Policy setting. Default none:
	// every provider whose data leaves the machine is denied.
	AllowedRegions []string `json:"allowed_regions"`
	// BreakGlassMaxDuration is how long a break-glass access stays valid
	// after it started, as a Go duration string ("1h", "30m"); whole
	// seconds. Policy setting. Empty means the default, "1h".
	BreakGlassMaxDuration string `json:"break_glass_max_duration"`
	// BreakGlassMinReasonLength is the minimum length of a break-glass
	// reason, in characters after trimming. Policy setting. Zero means the
	// default, 20.
	BreakGlassMinReasonLength int `json:"break_glass_min_reason_length"`
	// BreakGlassMinReasonWords is the minimum number of words of a
	// break-glass reason. Policy setting. Zero means the default, 3.
	BreakGlassMinReasonWords int `json:"break_glass_min_reason_words"`
	// BreakGlassRoles lists the roles that may use break-glass. Policy
	// setting. Empty means the default: clinician and nurse.
	BreakGlassRoles []string `json:"break_glass_roles"`
	// SensitiveLabels lists the security label codes (HL7 v3 ActCode, such
	// as "ETH" substance use or "PSY" psychiatry) whose resources need a
	// covering Consent. Policy setting. Empty means the default: ETH, SUD,
	// PSY, MH, HIV, SDV, SEX and STD.
	SensitiveLabels []string `json:"sensitive_labels"`
	// MaxRetentionDays is the longest a provider without a business
	// associate agreement may keep the data it receives, in days. Policy
	// setting. Zero means the default, 30; a negative value allows
	// retention 0 (not kept) only.
	MaxRetentionDays int `json:"max_retention_days"`
	// AllowMissingScopes lets requests without SMART scopes through the
	// scope check, for deployments that do not use SMART tokens. Requests
	// that carry scopes are always narrowed by them. Policy setting.
	// Default false: a request without scopes is denied.
	AllowMissingScopes bool `json:"allow_missing_scopes"`
}

// Defaults of Config, also written in policies/settings.rego.
const (
	DefaultMinCoverage               = 90.0
	DefaultBreakGlassMaxDuration     = time.Hour
	DefaultBreakGlassMinReasonLength = 20
	DefaultBreakGlassMinReasonWords  = 3
	DefaultMaxRetentionDays          = 30
)

// DefaultBreakGlassRoles and DefaultSensitiveLabels are the defaults of the
// Config fields of the same names.
var (
	DefaultBreakGlassRoles = []string{"clinician", "nurse"}
	DefaultSensitiveLabels = []string{"ETH", "SUD", "PSY", "MH", "HIV", "SDV", "SEX", "STD"}
)

// EffectiveMinCoverage returns MinCoverage, or its default when unset.
func (c Config) EffectiveMinCoverage() float64 {
	if c.MinCoverage == 0 {
		return DefaultMinCoverage
	}
	return c.MinCoverage
}

// Validate checks the values of the configuration.
func (c Config) Validate() error {
	if c.MinCoverage < 0 || c.MinCoverage > 100 {
		return fmt.Errorf("policy config: min_coverage %v is out of range: use a percentage from 0 to 100", c.MinCoverage)
	}
	if _, err := c.breakGlassMaxSeconds(); err != nil {
		return err
	}
	if c.BreakGlassMinReasonLength < 0 {
		return fmt.Errorf("policy config: break_glass_min_reason_length %d is negative: use 0 for the default or a positive length", c.BreakGlassMinReasonLength)
	}
	if c.BreakGlassMinReasonWords < 0 {
		return fmt.Errorf("policy config: break_glass_min_reason_words %d is negative: use 0 for the default or a positive count", c.BreakGlassMinReasonWords)
	}
	return nil
}

func (c Config) breakGlassMaxSeconds() (int64, error) {
	if c.BreakGlassMaxDuration == "" {
		return int64(DefaultBreakGlassMaxDuration / time.Second), nil
	}
	d, err := time.ParseDuration(c.BreakGlassMaxDuration)
	if err != nil {
		return 0, fmt.Errorf("policy config: break_glass_max_duration %q: %w: use a Go duration such as \"1h\"", c.BreakGlassMaxDuration, err)
	}
	if d < time.Second {
		return 0, fmt.Errorf("policy config: break_glass_max_duration %q is under one second: use a duration such as \"1h\"", c.BreakGlassMaxDuration)
	}
	return int64(d / time.Second), nil
}

// DataDocument returns the settings the policies read, with defaults
// filled in, as the hub stores them under data.healthhub.config. It never
// changes c.
func (c Config) DataDocument() (map[string]any, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	maxSeconds, _ := c.breakGlassMaxSeconds()
	return map[string]any{
		"allowed_regions":               stringsOrEmpty(c.AllowedRegions),
		"break_glass_max_seconds":       maxSeconds,
		"break_glass_min_reason_length": intOr(c.BreakGlassMinReasonLength, DefaultBreakGlassMinReasonLength),
		"break_glass_min_reason_words":  intOr(c.BreakGlassMinReasonWords, DefaultBreakGlassMinReasonWords),
		"break_glass_roles":             stringsOr(c.BreakGlassRoles, DefaultBreakGlassRoles),
		"sensitive_labels":              stringsOr(c.SensitiveLabels, DefaultSensitiveLabels),
		"max_retention_days":            retentionDays(c.MaxRetentionDays),
		"require_scopes":                !c.AllowMissingScopes,
	}, nil
}

func intOr(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

func retentionDays(v int) int {
	switch {
	case v == 0:
		return DefaultMaxRetentionDays
	case v < 0:
		return 0
	default:
		return v
	}
}

func stringsOr(v, def []string) []any {
	if len(v) == 0 {
		v = def
	}
	return stringsOrEmpty(v)
}

func stringsOrEmpty(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}
