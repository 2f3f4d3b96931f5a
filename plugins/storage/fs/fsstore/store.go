package fsstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"
	"syscall"
	"time"

	"github.com/healthhub/healthhub/sdk"
)

// Version is the storage-fs provider version.
const Version = "0.1.0"

// Info returns the description of the storage-fs provider. The data stays on
// this machine and is kept until deleted.
func Info() sdk.Info {
	return sdk.Info{
		Name:            "storage-fs",
		Version:         Version,
		Kinds:           []sdk.Kind{sdk.KindStorage},
		ProtocolVersion: sdk.ProtocolVersion,
		DataUse:         sdk.DataUse{Egress: false, RetentionDays: -1},
	}
}

// Store is a filesystem object store. It implements sdk.Storage and
// sdk.HealthChecker and is safe for concurrent use.
type Store struct {
	root      *os.Root
	masterKey []byte
	maxSize   int64

	// dirs is held shared by a Put from creating a directory until its
	// temporary file is in it, and exclusively by a Delete while it prunes.
	dirs sync.RWMutex
}

var (
	_ sdk.Storage       = (*Store)(nil)
	_ sdk.HealthChecker = (*Store)(nil)
)

// New opens a store on cfg.Root, creating the directory when missing.
func New(cfg Config) (*Store, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	key, err := cfg.encryptionKey()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.Root, 0o700); err != nil {
		return nil, fmt.Errorf("open storage-fs root %q: %w", cfg.Root, err)
	}
	root, err := os.OpenRoot(cfg.Root)
	if err != nil {
		return nil, fmt.Errorf("open storage-fs root %q: %w", cfg.Root, err)
	}
	return &Store{root: root, masterKey: key, maxSize: cfg.MaxObjectSize}, nil
}

// Close releases the root directory handle.
func (s *Store) Close() error {
	return s.root.Close()
}

// Put stores body under key, replacing any object with that key atomically.
// A nil body stores an empty object.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, opts sdk.PutOptions) (sdk.ObjectInfo, error) {
	if body == nil {
		body = bytes.NewReader(nil)
	}
	name, err := objectPath(key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	if s.maxSize > 0 && opts.Size > s.maxSize {
		return sdk.ObjectInfo{}, tooLarge(key, s.maxSize)
	}

	dir := path.Dir(name)
	tmp, err := s.createTemp(dir)
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			s.root.Remove(path.Join(dir, path.Base(tmp.Name())))
		}
	}()

	info, err := s.writeObject(ctx, tmp, key, body, opts)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	if err := tmp.Sync(); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: sync: %w", key, err)
	}
	if err := tmp.Close(); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: close: %w", key, err)
	}
	if err := s.root.Rename(path.Join(dir, path.Base(tmp.Name())), name); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: rename: %w", key, err)
	}
	committed = true
	if err := s.syncDir(dir); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: sync directory: %w", key, err)
	}
	return info, nil
}

// createTemp creates a new temporary file in dir, creating dir as needed.
// Once the file exists the directory is not empty, so removeEmptyDirs leaves
// it alone. Another process sharing the root may still prune a directory
// between the two steps, so the creation is tried up to three times.
func (s *Store) createTemp(dir string) (*os.File, error) {
	s.dirs.RLock()
	defer s.dirs.RUnlock()
	var lastErr error
	for range 3 {
		f, err := s.tryCreateTemp(dir)
		if err == nil {
			return f, nil
		}
		lastErr = err
		if !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	return nil, lastErr
}

func (s *Store) tryCreateTemp(dir string) (*os.File, error) {
	if err := s.root.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	name := path.Join(dir, tempPrefix+rand.Text())
	return s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
}

// writeObject writes the content, trailer and footer of an object to f.
func (s *Store) writeObject(ctx context.Context, f *os.File, key string, body io.Reader, opts sdk.PutOptions) (sdk.ObjectInfo, error) {
	buffered := bufio.NewWriterSize(f, 256<<10)
	var content io.Writer = buffered
	var aead cipher.AEAD
	var sealer *segmentWriter
	ad := additionalData(key)

	if s.masterKey != nil {
		salt := make([]byte, saltSize)
		rand.Read(salt)
		var err error
		if aead, err = objectAEAD(s.masterKey, salt); err != nil {
			return sdk.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
		}
		buffered.WriteString(magicEncrypted)
		buffered.Write(salt)
		sealer = newSegmentWriter(buffered, aead, ad)
		content = sealer
	}

	digest := sha256.New()
	size, err := copyContent(ctx, io.MultiWriter(content, digest), body, s.maxSize)
	if err != nil {
		if errors.Is(err, sdk.ErrTooLarge) {
			return sdk.ObjectInfo{}, tooLarge(key, s.maxSize)
		}
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	if sealer != nil {
		if err := sealer.Close(); err != nil {
			return sdk.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
		}
	}

	t := newTrailer(opts, size, digest)
	encoded, err := encodeTrailer(t, aead, ad)
	if err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: %w", key, err)
	}
	buffered.Write(encoded)
	if err := buffered.Flush(); err != nil {
		return sdk.ObjectInfo{}, fmt.Errorf("put %q: write: %w", key, err)
	}
	return t.objectInfo(key), nil
}

func newTrailer(opts sdk.PutOptions, size int64, digest hash.Hash) trailer {
	contentType := opts.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	return trailer{
		ContentType: contentType,
		Metadata:    opts.Metadata,
		Size:        size,
		SHA256:      hex.EncodeToString(digest.Sum(nil)),
		ModTime:     time.Now().UTC(),
	}
}

func (t trailer) objectInfo(key string) sdk.ObjectInfo {
	return sdk.ObjectInfo{
		Key:         key,
		Size:        t.Size,
		ContentType: t.ContentType,
		Metadata:    t.Metadata,
		SHA256:      t.SHA256,
		ModTime:     t.ModTime,
	}
}

// copyContent copies src to dst in chunks, checking ctx between chunks and
// failing with sdk.ErrTooLarge once more than limit bytes arrive (limit 0 is
// no limit).
func copyContent(ctx context.Context, dst io.Writer, src io.Reader, limit int64) (int64, error) {
	buf := make([]byte, 256<<10)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, readErr := src.Read(buf)
		if n > 0 {
			total += int64(n)
			if limit > 0 && total > limit {
				return total, sdk.ErrTooLarge
			}
			if _, err := dst.Write(buf[:n]); err != nil {
				return total, err
			}
		}
		if readErr == io.EOF {
			return total, nil
		}
		if readErr != nil {
			return total, fmt.Errorf("read body: %w", readErr)
		}
	}
}

func tooLarge(key string, limit int64) error {
	return sdk.Errorf(sdk.CodeTooLong, "put %q: object is larger than the limit of %d bytes (storage-fs max_object_size)", key, limit)
}

// Get opens the object stored under key. The reader verifies the content's
// SHA-256 against the trailer and returns an error at the end of the content
// on a mismatch. Once ctx is done, reads fail with ctx's error.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, sdk.ObjectInfo, error) {
	f, l, t, err := s.open(ctx, key)
	if err != nil {
		return nil, sdk.ObjectInfo{}, err
	}

	var content io.Reader = io.NewSectionReader(f, l.contentOffset, l.contentLength)
	if l.encrypted {
		aead, err := s.aeadFor(f)
		if err != nil {
			f.Close()
			return nil, sdk.ObjectInfo{}, fmt.Errorf("get %q: %w", key, err)
		}
		content = newSegmentReader(content, aead, additionalData(key), l.contentLength)
	}
	reader := &verifyingReader{ctx: ctx, r: content, file: f, digest: sha256.New(), want: t.SHA256, key: key, size: t.Size}
	return reader, t.objectInfo(key), nil
}

// Stat returns the object's description without reading its content.
func (s *Store) Stat(ctx context.Context, key string) (sdk.ObjectInfo, error) {
	f, _, t, err := s.open(ctx, key)
	if err != nil {
		return sdk.ObjectInfo{}, err
	}
	f.Close()
	return t.objectInfo(key), nil
}

// open opens an object file and reads its layout and trailer.
func (s *Store) open(ctx context.Context, key string) (*os.File, layout, trailer, error) {
	if err := ctx.Err(); err != nil {
		return nil, layout{}, trailer{}, err
	}
	name, err := objectPath(key)
	if err != nil {
		return nil, layout{}, trailer{}, err
	}
	f, err := s.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil, layout{}, trailer{}, sdk.NotFoundf("object %q not found", key)
		}
		return nil, layout{}, trailer{}, fmt.Errorf("open %q: %w", key, err)
	}

	t, l, err := s.readMeta(f, key)
	if err != nil {
		f.Close()
		return nil, layout{}, trailer{}, fmt.Errorf("open %q: %w", key, err)
	}
	return f, l, t, nil
}

func (s *Store) readMeta(f *os.File, key string) (trailer, layout, error) {
	stat, err := f.Stat()
	if err != nil {
		return trailer{}, layout{}, err
	}
	l, err := readLayout(f, stat.Size())
	if err != nil {
		return trailer{}, layout{}, err
	}
	var aead cipher.AEAD
	if l.encrypted {
		if aead, err = s.aeadFor(f); err != nil {
			return trailer{}, layout{}, err
		}
	}
	t, err := readTrailer(f, l, aead, additionalData(key))
	return t, l, err
}

// aeadFor reads the salt of an encrypted object file and derives its cipher.
func (s *Store) aeadFor(f *os.File) (cipher.AEAD, error) {
	if s.masterKey == nil {
		return nil, errors.New("object is encrypted but storage-fs has no encryption key configured; set encryption_key_file")
	}
	header := make([]byte, headerSize)
	if _, err := f.ReadAt(header, 0); err != nil {
		return nil, fmt.Errorf("%w: read header: %v", errCorrupt, err)
	}
	if string(header[:len(magicEncrypted)]) != magicEncrypted {
		return nil, fmt.Errorf("%w: header marker %q", errCorrupt, header[:len(magicEncrypted)])
	}
	return objectAEAD(s.masterKey, header[len(magicEncrypted):])
}

// verifyingReader reads an object's content and checks its size and SHA-256
// when the content ends.
type verifyingReader struct {
	ctx    context.Context
	r      io.Reader
	file   *os.File
	digest hash.Hash
	want   string
	key    string
	size   int64
	read   int64
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	if err := v.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := v.r.Read(p)
	v.digest.Write(p[:n])
	v.read += int64(n)
	if err == io.EOF {
		if v.read != v.size {
			return n, fmt.Errorf("get %q: %w: content is %d bytes, trailer says %d", v.key, errCorrupt, v.read, v.size)
		}
		if got := hex.EncodeToString(v.digest.Sum(nil)); got != v.want {
			return n, fmt.Errorf("get %q: %w: content SHA-256 is %s, trailer says %s", v.key, errCorrupt, got, v.want)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error {
	return v.file.Close()
}

// Delete removes the object stored under key, then any directories that the
// removal left empty.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, err := objectPath(key)
	if err != nil {
		return err
	}
	if err := s.root.Remove(name); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return sdk.NotFoundf("object %q not found", key)
		}
		return fmt.Errorf("delete %q: %w", key, err)
	}
	dir := path.Dir(name)
	if err := s.syncDir(dir); err != nil {
		return fmt.Errorf("delete %q: sync directory: %w", key, err)
	}
	s.removeEmptyDirs(dir)
	return nil
}

// removeEmptyDirs removes dir and its parents up to the root while they are
// empty. Remove fails on a directory that is not empty, which ends the walk;
// that failure is expected and not reported.
func (s *Store) removeEmptyDirs(dir string) {
	s.dirs.Lock()
	defer s.dirs.Unlock()
	for dir != "." {
		if err := s.root.Remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

func (s *Store) syncDir(dir string) error {
	d, err := s.root.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// CheckHealth reports whether the root directory can be written, by creating
// and removing a temporary file in it.
func (s *Store) CheckHealth(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := s.createTemp(".")
	if err != nil {
		return fmt.Errorf("storage-fs root %q is not writable: %w", s.root.Name(), err)
	}
	name := path.Base(f.Name())
	f.Close()
	return s.root.Remove(name)
}
