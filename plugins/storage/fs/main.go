// Command storage-fs is the filesystem storage plugin: package fsstore
// served over the HealthHub plugin protocol. The hub launches it; run on
// its own it prints a notice and exits.
//
// Its configuration object is fsstore.Config, checked against
// config.schema.json by the hub and again by fsstore.New.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"

	"github.com/healthhub/healthhub/plugins/storage/fs/fsstore"
	"github.com/healthhub/healthhub/sdk"
)

func main() {
	sdk.Serve(sdk.Provider{
		Info:    fsstore.Info(),
		Storage: &configurableStore{logger: sdk.NewPluginLogger()},
	})
}

// configurableStore is the Storage the plugin serves. The hub configures
// it after launch; Configure opens the fsstore.Store every call then uses.
type configurableStore struct {
	logger *slog.Logger

	mu    sync.RWMutex
	store *fsstore.Store
}

var (
	_ sdk.Storage       = (*configurableStore)(nil)
	_ sdk.Configurer    = (*configurableStore)(nil)
	_ sdk.HealthChecker = (*configurableStore)(nil)
)

// Configure opens the store described by config (fsstore.Config as JSON),
// replacing any store opened before.
func (c *configurableStore) Configure(_ context.Context, config json.RawMessage) error {
	var cfg fsstore.Config
	decoder := json.NewDecoder(bytes.NewReader(config))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&cfg); err != nil {
		if errors.Is(err, io.EOF) {
			return sdk.Invalidf("", "configure storage-fs: the configuration is empty; set at least root")
		}
		return sdk.Invalidf("", "configure storage-fs: %v", err)
	}
	store, err := fsstore.New(cfg)
	if err != nil {
		return err
	}

	c.mu.Lock()
	previous := c.store
	c.store = store
	c.mu.Unlock()
	if previous != nil {
		previous.Close()
	}
	c.logger.Info("storage-fs configured", "root", cfg.Root,
		"encrypted", cfg.EncryptionKey != "" || cfg.EncryptionKeyFile != "")
	return nil
}

func (c *configurableStore) current() (*fsstore.Store, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.store == nil {
		return nil, sdk.Errorf(sdk.CodeProcessing, "storage-fs is not configured; the hub configures it at launch")
	}
	return c.store, nil
}

func (c *configurableStore) Put(ctx context.Context, key string, body io.Reader, opts sdk.PutOptions) (sdk.ObjectInfo, error) {
	store, err := c.current()
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	return store.Put(ctx, key, body, opts)
}

func (c *configurableStore) Get(ctx context.Context, key string) (io.ReadCloser, sdk.ObjectInfo, error) {
	store, err := c.current()
	if err != nil {
		return nil, sdk.ObjectInfo{}, err
	}
	return store.Get(ctx, key)
}

func (c *configurableStore) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	store, err := c.current()
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	return store.Stat(ctx, key)
}

func (c *configurableStore) Delete(ctx context.Context, key string) error {
	store, err := c.current()
	if err != nil {
		return err
	}
	return store.Delete(ctx, key)
}

func (c *configurableStore) List(ctx context.Context, opts sdk.ListOptions) (sdk.ListPage, error) {
	store, err := c.current()
	if err != nil {
		return sdk.ListPage{}, err
	}
	return store.List(ctx, opts)
}

// CheckHealth reports the store's health, or an error before Configure.
func (c *configurableStore) CheckHealth(ctx context.Context) error {
	store, err := c.current()
	if err != nil {
		return err
	}
	return store.CheckHealth(ctx)
}
