package policy_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/healthhub/healthhub/core/policy"
)

func ExampleEngine_Decide() {
	ctx := context.Background()
	engine, err := policy.New(ctx, policy.Config{}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer engine.Close()

	decision, err := engine.Decide(ctx, &policy.Input{
		Subject: policy.Subject{
			ID:     "Practitioner/f001",
			Roles:  []string{"clinician"},
			Tenant: "north",
			Scopes: []string{"user/Observation.rs"},
		},
		Action:   "read",
		Resource: policy.Resource{Type: "Observation", ID: "example", Tenant: "north", Patient: "Patient/example"},
		Context:  policy.Context{Time: time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(decision.Allow, decision.Reasons[0].Code, decision.Obligations.AuditLevel)
	// Output: true access.role standard
}
