package api

import (
	"context"

	"github.com/healthhub/healthhub/core/auth"
)

type contextKey int

const stateKey contextKey = iota

// requestState is the facts the middleware learns about a request. It is
// kept in the context so that the access log, written by the outermost
// middleware, can read what inner ones found.
type requestState struct {
	id        string
	route     string
	principal *auth.Principal
}

func stateFrom(ctx context.Context) *requestState {
	state, _ := ctx.Value(stateKey).(*requestState)
	return state
}

// RequestID returns the id of the request ctx belongs to, or "" outside a
// request.
func RequestID(ctx context.Context) string {
	if state := stateFrom(ctx); state != nil {
		return state.id
	}
	return ""
}

// PrincipalFrom returns the authenticated subject of the request ctx
// belongs to, or nil on routes without authentication.
func PrincipalFrom(ctx context.Context) *auth.Principal {
	if state := stateFrom(ctx); state != nil {
		return state.principal
	}
	return nil
}
