// Package plugintest builds plugin binaries for tests that run them
// through the real host, as make build does: the binary, its manifest and
// schema in a directory of their own, the manifest stamped with the
// binary's SHA-256.
package plugintest

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/healthhub/healthhub/core/plugin"
)

// Build compiles the plugin package in srcDir (a path relative to the
// module root, such as "plugins/storage/fs") into pluginsDir/NAME, where
// NAME is the name in srcDir's manifest.json. It copies the JSON files of
// srcDir beside the binary and stamps the manifest. Build needs the go
// command; it is meant for TestMain.
func Build(srcDir, pluginsDir string) (plugin.Manifest, error) {
	root, err := moduleRoot()
	if err != nil {
		return plugin.Manifest{}, err
	}
	src := filepath.Join(root, srcDir)
	m, err := plugin.ReadManifest(src)
	if err != nil {
		return plugin.Manifest{}, err
	}
	dest := filepath.Join(pluginsDir, m.Name)
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return plugin.Manifest{}, err
	}

	build := exec.Command("go", "build", "-o", filepath.Join(dest, m.Command), ".")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return plugin.Manifest{}, fmt.Errorf("build plugin %s: %w\n%s", srcDir, err, out)
	}
	if err := copyJSONFiles(src, dest); err != nil {
		return plugin.Manifest{}, err
	}
	return plugin.Stamp(dest)
}

// Copy copies the plugin directory src into pluginsDir under the same
// name, so that a test may change or break it without touching src.
func Copy(src, pluginsDir string) (string, error) {
	dest := filepath.Join(pluginsDir, filepath.Base(src))
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return "", err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dest, e.Name())); err != nil {
			return "", err
		}
	}
	return dest, nil
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find module root: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("find module root: not inside a Go module")
	}
	return filepath.Dir(gomod), nil
}

func copyJSONFiles(src, dest string) error {
	matches, err := filepath.Glob(filepath.Join(src, "*.json"))
	if err != nil {
		return err
	}
	for _, path := range matches {
		if err := copyFile(path, filepath.Join(dest, filepath.Base(path))); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dest string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dest, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
