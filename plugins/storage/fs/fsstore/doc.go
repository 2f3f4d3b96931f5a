// Package fsstore is a filesystem object store: the storage provider
// "storage-fs".
//
// Objects live under a root directory, one file per object. The key
// "tenant-a/blobs/x.dcm" is stored at ROOT/tenant-a/blobs/x.dcm.obj, so the
// layout stays readable for operators. Writes are atomic: Put writes a
// temporary file beside the target, syncs it and renames it over the target,
// then syncs the directory. All file access goes through an os.Root opened
// on the root directory, and keys are checked before use, so no key reaches
// outside the root.
//
// Each object file holds the content followed by a trailer with the content
// type, metadata, size and SHA-256, so that content and metadata are
// replaced together by one rename. With an encryption key configured, the
// content and the trailer are encrypted with AES-256-GCM under a key derived
// per object (see format.go). Content is sealed in 64 KiB segments, so
// objects of any size stream without being held in memory, and a read
// detects truncation or reordering.
package fsstore
