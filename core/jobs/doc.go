// Package jobs is the hub's durable background job queue, built on
// github.com/riverqueue/river. Long provider operations (transcription of
// long audio, EHR imports and pushes) run as jobs that survive a restart of
// the hub and that several hub replicas sharing one database divide between
// them.
//
// The queue lives in the hub's database: the SQLite file of the store, with
// river's SQLite driver on one connection, or the store's PostgreSQL with
// river's pgx driver. Open runs river's migrations before it returns.
//
// A job is a Task: its kind, the tenant and subject it runs for, and
// parameters that hold references and blob keys only, never patient data in
// clear, because job rows are kept after the job ends. A Handler does the
// work and returns an output (references to what it stored) that the job
// row keeps. A failed attempt is retried with exponential backoff until
// Config.MaxAttempts, and the job then ends discarded with every attempt's
// error kept. An error marked Permanent (invalid input, forbidden) ends the
// job at once, as cancelled. Retry runs a finished job again.
package jobs
