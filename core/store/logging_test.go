package store_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/url"
	"sync"
	"testing"

	"github.com/healthhub/healthhub/core/internal/dbtest"
	"github.com/healthhub/healthhub/core/store"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockedBuffer is a bytes.Buffer safe for the logger's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestLogsCarryNoPatientData(t *testing.T) {
	const canary = "Zebulon-Canary-Quixote"
	var logs lockedBuffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	for _, b := range dbtest.Backends {
		t.Run(b.Name, func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, storeConfig(t, b), store.Options{Logger: logger})
			require.NoError(t, err)

			res, err := s.Create(ctx, "acme", []byte(`{"resourceType":"Patient","name":[{"family":"`+canary+`"}]}`))
			require.NoError(t, err)
			_, _, err = s.Update(ctx, "acme", "Patient", res.ID, []byte(`{"resourceType":"Patient","name":[{"family":"`+canary+`"}],"meta":"x"}`), store.WriteOptions{})
			require.Error(t, err)
			_, err = s.Search(ctx, "acme", "Patient", url.Values{"nickname": {canary}})
			require.Error(t, err)
			_, err = s.ProcessBundle(ctx, "acme", []byte(`{"resourceType":"Bundle","type":"batch","entry":[{"request":{"method":"GET","url":"Patient/`+canary+`"}}]}`))
			require.NoError(t, err)
			require.NoError(t, s.Close())
		})
	}
	assert.Contains(t, logs.String(), "store opened", "the logger must have been used")
	assert.NotContains(t, logs.String(), canary)
}
