package settings

import (
	"net"
	"net/url"
	"strings"

	"github.com/healthhub/healthhub/sdk"
)

// Endpoint parses and checks a base URL setting. The URL must be absolute
// http or https with a host and no query, fragment or user information.
// Plain http is accepted only for loopback hosts unless allowInsecure is
// true, because credentials and patient data would cross the network in
// clear text. The returned URL's path ends with a slash so relative
// references resolve below it.
func Endpoint(raw, path string, allowInsecure bool, plugin string) (*url.URL, error) {
	if raw == "" {
		return nil, sdk.NewOutcome(sdk.Issue{
			Severity:    sdk.SeverityError,
			Code:        sdk.CodeRequired,
			Path:        path,
			Diagnostics: "configure " + plugin + ": " + path + " is missing; set it to the service's base URL",
		})
	}

	u, err := url.Parse(raw)
	if err != nil {
		return nil, sdk.Invalidf(path, "configure %s: %s %q is not a valid URL: %v", plugin, path, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, sdk.Invalidf(path, "configure %s: %s %q must start with https:// or http://", plugin, path, raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, sdk.Invalidf(path, "configure %s: %s %q has no host", plugin, path, raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, sdk.Invalidf(path, "configure %s: %s %q must not carry user information, a query or a fragment; put credentials in their own settings", plugin, path, raw)
	}
	if u.Scheme == "http" && !allowInsecure && !IsLoopback(u.Hostname()) {
		return nil, sdk.Invalidf(path, "configure %s: %s %q uses plain http to a host that is not loopback; use https, or set allow_insecure_http to true on a trusted network", plugin, path, raw)
	}

	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	return u, nil
}

// IsLoopback reports whether host, a host name or IP address without port,
// names this machine: "localhost", a name under ".localhost", or a loopback
// address such as 127.0.0.1 or ::1. Other names are treated as remote even
// when they resolve to a loopback address, so a declaration never claims
// less egress than happens.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
