package api

import (
	"context"
	"net/http"
	"sync"

	"github.com/healthhub/healthhub/core/plugin"
	"github.com/healthhub/healthhub/sdk"
)

// PluginHost is the part of the plugin host the /v1/plugins route reads;
// *plugin.Host implements it.
type PluginHost interface {
	Statuses() []plugin.Status
	CheckHealth(ctx context.Context, name string) error
	LoadFailures() []plugin.LoadFailure
}

// RegisterPlugins adds GET /v1/plugins, which lists the providers of host
// with their state, a fresh health check and their data-use declaration,
// followed by the plugins that did not load.
func (s *Server) RegisterPlugins(host PluginHost) {
	s.Handle(Route{Method: http.MethodGet, Path: "/v1/plugins", Handler: func(w http.ResponseWriter, r *http.Request) error {
		statuses := pluginStatuses(r.Context(), host)
		principal := PrincipalFrom(r.Context())
		admin := principal != nil && principal.HasRole(RoleAdmin)
		statuses = append(statuses, notLoaded(host.LoadFailures(), admin)...)
		return writeJSON(w, http.StatusOK, map[string]any{"plugins": statuses})
	}})
}

// notLoaded lists the plugins that did not load. Only admins get the
// reason, because the error may name the server's files.
func notLoaded(failures []plugin.LoadFailure, admin bool) []pluginStatus {
	out := make([]pluginStatus, len(failures))
	for i, f := range failures {
		out[i] = pluginStatus{Name: f.Name, Version: f.Version, Kinds: f.Kinds, State: "not_loaded", Health: "unhealthy",
			Error: "the plugin did not load: the reason is shown to role admin here and in the hub log"}
		if admin {
			out[i].Error = f.Error
		}
	}
	return out
}

type pluginStatus struct {
	Name     string      `json:"name"`
	Version  string      `json:"version"`
	Kinds    []sdk.Kind  `json:"kinds"`
	State    string      `json:"state"`
	PID      int         `json:"pid,omitempty"`
	Restarts int         `json:"restarts"`
	Health   string      `json:"health"`
	Error    string      `json:"error,omitempty"`
	DataUse  sdk.DataUse `json:"data_use"`
}

// pluginStatuses checks the plugins' health concurrently, so that the
// response waits for the slowest check rather than for all of them in turn.
// A plugin whose vendor is unreachable may take its whole health timeout.
func pluginStatuses(ctx context.Context, host PluginHost) []pluginStatus {
	statuses := host.Statuses()
	out := make([]pluginStatus, len(statuses))
	var wg sync.WaitGroup
	for i, status := range statuses {
		out[i] = pluginStatus{
			Name: status.Name, Version: status.Version, Kinds: status.Kinds, State: string(status.State),
			PID: status.PID, Restarts: status.Restarts, DataUse: status.DataUse, Health: "ok",
		}
		wg.Go(func() {
			if err := host.CheckHealth(ctx, status.Name); err != nil {
				out[i].Health, out[i].Error = "unhealthy", err.Error()
			}
		})
	}
	wg.Wait()
	return out
}
