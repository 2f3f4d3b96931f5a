package plugin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"github.com/hashicorp/go-plugin"

	"github.com/healthhub/healthhub/sdk"
)

// ManifestFile is the name of the manifest in each plugin's directory.
const ManifestFile = "manifest.json"

// Manifest describes a plugin binary: what it claims to be, the SHA-256 it
// must have, and how it is configured. It is the manifest.json beside the
// binary.
type Manifest struct {
	// Name is the plugin's unique name, such as "storage-fs". It must
	// match the name the binary reports.
	Name string `json:"name"`
	// Version is the plugin's semantic version.
	Version string `json:"version"`
	// Kinds lists the provider kinds the plugin serves.
	Kinds []sdk.Kind `json:"kinds"`
	// ProtocolVersion is the plugin protocol version the binary was built
	// against; 0 means unknown, and the handshake decides.
	ProtocolVersion int `json:"protocol_version,omitempty"`
	// Command is the binary's file name, relative to the manifest's
	// directory.
	Command string `json:"command"`
	// SHA256 is the lowercase hex SHA-256 of the binary. The host refuses
	// to launch a binary whose checksum differs.
	SHA256 string `json:"sha256"`
	// ConfigSchema is the path of a JSON Schema for the plugin's
	// configuration object, relative to the manifest's directory.
	// Optional.
	ConfigSchema string `json:"config_schema,omitempty"`
	// DefaultConfig is the configuration object used when the hub
	// configuration has none for this plugin. Optional.
	DefaultConfig json.RawMessage `json:"default_config,omitempty"`

	// dir is the directory the manifest was read from.
	dir string
}

// Dir returns the directory the manifest was read from.
func (m Manifest) Dir() string { return m.dir }

// BinaryPath returns the path of the plugin binary.
func (m Manifest) BinaryPath() string { return filepath.Join(m.dir, m.Command) }

var pluginNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ErrChecksumMismatch is returned, wrapped with both sums, when a plugin
// binary's SHA-256 differs from its manifest.
var ErrChecksumMismatch = errors.New("checksum mismatch")

// ErrUnlisted is returned, wrapped with the path, for an executable in the
// plugin directory that no manifest names.
var ErrUnlisted = errors.New("executable not listed in any manifest")

// ReadManifest reads and checks the manifest in dir.
func ReadManifest(dir string) (Manifest, error) {
	path := filepath.Join(dir, ManifestFile)
	data, err := os.ReadFile(path)
	if err != nil {
		return Manifest{}, fmt.Errorf("read plugin manifest: %w", err)
	}
	var m Manifest
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&m); err != nil {
		return Manifest{}, fmt.Errorf("read plugin manifest %s: %w", path, err)
	}
	m.dir = dir
	if err := m.validate(); err != nil {
		return Manifest{}, fmt.Errorf("read plugin manifest %s: %w", path, err)
	}
	return m, nil
}

func (m Manifest) validate() error {
	if !pluginNamePattern.MatchString(m.Name) {
		return fmt.Errorf("name %q is invalid; use lowercase letters, digits, '.', '_' and '-'", m.Name)
	}
	if m.Version == "" {
		return fmt.Errorf("plugin %q: version is empty", m.Name)
	}
	if len(m.Kinds) == 0 {
		return fmt.Errorf("plugin %q: kinds is empty; list the kinds it serves, such as [\"storage\"]", m.Name)
	}
	for _, k := range m.Kinds {
		if !slices.Contains(sdk.Kinds, k) {
			return fmt.Errorf("plugin %q: unknown kind %q; use one of %v", m.Name, k, sdk.Kinds)
		}
	}
	if err := checkRelative("command", m.Command); err != nil {
		return fmt.Errorf("plugin %q: %w", m.Name, err)
	}
	if m.ConfigSchema != "" {
		if err := checkRelative("config_schema", m.ConfigSchema); err != nil {
			return fmt.Errorf("plugin %q: %w", m.Name, err)
		}
	}
	if m.ProtocolVersion != 0 && m.ProtocolVersion != sdk.ProtocolVersion {
		return fmt.Errorf("plugin %q: protocol version mismatch: the plugin speaks %d, the hub speaks %d; rebuild the plugin against a matching sdk",
			m.Name, m.ProtocolVersion, sdk.ProtocolVersion)
	}
	return nil
}

// checkRelative checks that a path in a manifest stays inside the
// manifest's directory.
func checkRelative(field, path string) error {
	if path == "" {
		return fmt.Errorf("%s is empty", field)
	}
	if filepath.IsAbs(path) || !filepath.IsLocal(path) {
		return fmt.Errorf("%s %q must be a path inside the plugin's directory", field, path)
	}
	return nil
}

// FileSHA256 returns the lowercase hex SHA-256 of the file at path.
func FileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hash %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// VerifyChecksum checks the plugin binary against the manifest's SHA-256
// with go-plugin's SecureConfig. A mismatch returns an error wrapping
// ErrChecksumMismatch that names the plugin and both sums.
func (m Manifest) VerifyChecksum() error {
	want, err := hex.DecodeString(m.SHA256)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("verify plugin %q: manifest sha256 %q is not a hex SHA-256; stamp the manifest with: hub plugins stamp %s",
			m.Name, m.SHA256, m.dir)
	}
	digest := sha256.New()
	secure := &plugin.SecureConfig{Checksum: want, Hash: digest}
	ok, err := secure.Check(m.BinaryPath())
	if err != nil {
		return fmt.Errorf("verify plugin %q: %w", m.Name, err)
	}
	if !ok {
		return fmt.Errorf("verify plugin %q: %w: manifest says %s, binary %s is %s",
			m.Name, ErrChecksumMismatch, m.SHA256, m.BinaryPath(), hex.EncodeToString(digest.Sum(nil)))
	}
	return nil
}

// Stamp writes the SHA-256 of the plugin binary in dir into dir's
// manifest and returns the updated manifest. Build steps and plugin
// authors run it after each build, through hub plugins stamp.
func Stamp(dir string) (Manifest, error) {
	m, err := ReadManifest(dir)
	if err != nil {
		return Manifest{}, err
	}
	sum, err := FileSHA256(m.BinaryPath())
	if err != nil {
		return Manifest{}, fmt.Errorf("stamp plugin %q: %w", m.Name, err)
	}
	m.SHA256 = sum
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return Manifest{}, fmt.Errorf("stamp plugin %q: %w", m.Name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, ManifestFile), append(data, '\n'), 0o644); err != nil {
		return Manifest{}, fmt.Errorf("stamp plugin %q: %w", m.Name, err)
	}
	return m, nil
}

// Discover reads every plugin manifest under dir, one per subdirectory.
// It returns the manifests it could read and one error per problem: an
// unreadable or invalid manifest, two plugins with one name, or an
// executable that no manifest names (ErrUnlisted). Checksums are not
// checked here; see Manifest.VerifyChecksum.
func Discover(dir string) ([]Manifest, []error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("discover plugins: %w", err)}
	}
	var found []Manifest
	var problems []error
	seen := map[string]string{}
	for _, entry := range entries {
		path := filepath.Join(dir, entry.Name())
		if !entry.IsDir() {
			if isExecutable(path) {
				problems = append(problems, fmt.Errorf("discover plugins: %w: %s; put each plugin in a directory with a manifest.json", ErrUnlisted, path))
			}
			continue
		}
		m, err := ReadManifest(path)
		if err != nil {
			// A directory without a manifest is skipped unless it holds
			// executables, which are then reported as unlisted.
			problems = append(problems, unlistedIn(path, "")...)
			if !errors.Is(err, os.ErrNotExist) {
				problems = append(problems, err)
			}
			continue
		}
		if other, dup := seen[m.Name]; dup {
			problems = append(problems, fmt.Errorf("discover plugins: plugin name %q is used by both %s and %s; rename one", m.Name, other, path))
			continue
		}
		seen[m.Name] = path
		found = append(found, m)
		problems = append(problems, unlistedIn(path, m.Command)...)
	}
	return found, problems
}

// unlistedIn returns an ErrUnlisted error for each executable file in dir
// other than command.
func unlistedIn(dir, command string) []error {
	var problems []error
	_ = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		if rel != filepath.Clean(command) && isExecutable(path) {
			problems = append(problems, fmt.Errorf("discover plugins: %w: %s", ErrUnlisted, path))
		}
		return nil
	})
	return problems
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}
