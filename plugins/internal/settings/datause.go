package settings

import (
	"net/url"
	"slices"

	"github.com/healthhub/healthhub/sdk"
)

// DataUse holds the data-use facts an operator states about a vendor
// service: what the hub cannot find out by itself. The plugins embed it in
// their Config under the key "data_use".
type DataUse struct {
	// Region is where the vendor processes the data, such as "us-east-1"
	// or "eu". Default: empty, meaning unknown.
	Region string `json:"region,omitempty"`
	// BAA is true when a HIPAA business associate agreement covers the
	// vendor. Default: false.
	BAA bool `json:"baa,omitempty"`
	// RetentionDays is how long the vendor keeps the data, in days: 0 means
	// not kept after the call, -1 means unknown or indefinite. Default: -1.
	RetentionDays *int `json:"retention_days,omitempty"`
}

// Declare builds the data-use declaration for a plugin that sends data to
// the given endpoints. Egress is false only when every endpoint is a
// loopback host. Hosts lists the distinct host names of the endpoints that
// are not loopback.
func (d DataUse) Declare(endpoints ...*url.URL) sdk.DataUse {
	declaration := sdk.DataUse{
		Region:        d.Region,
		BAA:           d.BAA,
		RetentionDays: -1,
	}
	if d.RetentionDays != nil {
		declaration.RetentionDays = *d.RetentionDays
	}

	for _, endpoint := range endpoints {
		if endpoint == nil {
			continue
		}
		host := endpoint.Hostname()
		if IsLoopback(host) {
			continue
		}
		declaration.Egress = true
		if !slices.Contains(declaration.Hosts, host) {
			declaration.Hosts = append(declaration.Hosts, host)
		}
	}
	if !declaration.Egress {
		declaration.Region = ""
	}
	return declaration
}

// Validate checks the facts, returning an outcome with the path of a bad
// one. prefix is the JSON Pointer of the data_use object.
func (d DataUse) Validate(prefix, plugin string) error {
	if d.RetentionDays != nil && *d.RetentionDays < -1 {
		return sdk.Invalidf(prefix+"/retention_days", "configure %s: retention_days is %d; use -1 for unknown, 0 for not kept, or a number of days", plugin, *d.RetentionDays)
	}
	return nil
}
