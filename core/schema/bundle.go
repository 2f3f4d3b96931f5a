package schema

import (
	"context"
	"runtime"
	"strconv"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// minConcurrentEntries is the number of Bundle entries from which they are
// validated on several goroutines. The value is an estimate, not a
// measurement: with fewer entries, starting the goroutines is a larger
// share of the work.
const minConcurrentEntries = 8

// entryJob is one resource of a Bundle entry to validate.
type entryJob struct {
	location []string
	resource map[string]any
	schema   *jsonschema.Schema
}

// concurrentBundle returns doc as a Bundle whose entries are worth
// validating concurrently, and false otherwise.
func (v *Validator) concurrentBundle(c *compiled, rt string, doc any) (map[string]any, bool) {
	if rt != "Bundle" || c.bundleShell == nil || v.parallelism() < 2 {
		return nil, false
	}
	bundle, _ := doc.(map[string]any)
	entries, _ := bundle["entry"].([]any)
	return bundle, len(entries) >= minConcurrentEntries
}

func (v *Validator) parallelism() int {
	if v.cfg.Parallelism > 0 {
		return v.cfg.Parallelism
	}
	return runtime.GOMAXPROCS(0)
}

// validateBundle validates the Bundle without its nested resources, then
// each entry's resource and response outcome against its own type on up to
// parallelism goroutines, adding the issues to conv in entry order.
func (v *Validator) validateBundle(ctx context.Context, c *compiled, conv *converter, bundle map[string]any) error {
	if err := c.bundleShell.Validate(bundle); err != nil {
		conv.add(err)
	}

	jobs := entryJobs(c, bundle)
	results := make([]*converter, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(v.parallelism(), len(jobs)) {
		wg.Go(func() {
			for i := range next {
				job := jobs[i]
				if err := job.schema.Validate(job.resource); err != nil {
					sub := &converter{compiled: c, rootType: conv.rootType, doc: conv.doc, base: job.resource, prefix: job.location}
					sub.add(err)
					results[i] = sub
				}
			}
		})
	}
	var err error
	for i := range jobs {
		if err = ctx.Err(); err != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err != nil {
		return err
	}

	for _, r := range results {
		if r != nil {
			conv.issues = append(conv.issues, r.issues...)
		}
	}
	return nil
}

// entryJobs lists the nested resources of a Bundle's entries that have a
// schema. The shell validation has reported the others: a missing or
// unknown resourceType, or a value that is not an object.
func entryJobs(c *compiled, bundle map[string]any) []entryJob {
	entries, _ := bundle["entry"].([]any)
	jobs := make([]entryJob, 0, len(entries))
	add := func(value any, location ...string) {
		resource, ok := value.(map[string]any)
		if !ok {
			return
		}
		rt, _ := resource["resourceType"].(string)
		if sch, ok := c.resources[rt]; ok {
			jobs = append(jobs, entryJob{location: location, resource: resource, schema: sch})
		}
	}
	for i, e := range entries {
		entry, ok := e.(map[string]any)
		if !ok {
			continue
		}
		index := strconv.Itoa(i)
		add(entry["resource"], "entry", index, "resource")
		if response, ok := entry["response"].(map[string]any); ok {
			add(response["outcome"], "entry", index, "response", "outcome")
		}
	}
	return jobs
}
