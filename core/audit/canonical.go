package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
)

// canonicalTags start the canonical forms, naming their versions.
var canonicalTags = map[int]string{1: "healthhub-audit-v1\n", 2: "healthhub-audit-v2\n"}

// canonicalFormat is the version of the canonical form of new events.
const canonicalFormat = 2

// checkpointTag starts every signed checkpoint message.
const checkpointTag = "healthhub-audit-checkpoint-v1\n"

// genesisHash is the prev_hash of the first event of a chain.
var genesisHash = strings.Repeat("0", 64)

// Canonical returns the bytes that an event's hash covers, in the version
// of the record's Format. Version 2:
//
//	"healthhub-audit-v2\n"
//	field(tenant) field(seq) field(event_id) field(time)
//	field(request_id) field(subject) field(action)
//	field(resource_type) field(resource_id) field(patient)
//	field(purpose_of_use) field(decision_id) field(decision)
//	list(reasons) obligations field(level) field(review)
//	field(subject_tenant) field(break_glass_reason) list(roles)
//	field(policy_revision) field(provider) field(provider_version) field(outcome)
//	field(model_id) field(payload_sha256) field(prev_hash)
//
// Version 1, of events written before version 2 existed, starts with
// "healthhub-audit-v1\n" and has none of subject_tenant,
// break_glass_reason, roles and policy_revision. A record of another Format yields no bytes, so its
// hash never matches.
//
// where:
//
//   - field(x) is the decimal byte length of x, ":", x and ",";
//   - seq and time (Unix microseconds) are written in decimal, and review
//     as "true" or "false";
//   - list(xs) is the field of the concatenated fields of xs;
//   - obligations is the field of the concatenation, per obligation, of
//     field(field(rule) list(fields)).
//
// The length prefixes make the encoding unambiguous for any text. The event's
// hash is the lowercase hex SHA-256 of these bytes, and prev_hash is the
// previous event's hash, or 64 zeros for the first event.
func Canonical(r *Record) []byte {
	tag, ok := canonicalTags[r.Format]
	if !ok {
		return nil
	}
	var b strings.Builder
	b.Grow(512)
	b.WriteString(tag)
	for _, s := range []string{r.Tenant, strconv.FormatInt(r.Seq, 10), r.ID, strconv.FormatInt(r.Time.UnixMicro(), 10),
		r.RequestID, r.Subject, r.Action, r.ResourceType, r.ResourceID, r.Patient,
		r.PurposeOfUse, r.DecisionID, string(r.Decision)} {
		writeField(&b, s)
	}
	writeField(&b, list(r.Reasons))
	var obligations strings.Builder
	for _, o := range r.Obligations {
		var one strings.Builder
		writeField(&one, o.Rule)
		writeField(&one, list(o.Fields))
		writeField(&obligations, one.String())
	}
	writeField(&b, obligations.String())
	writeField(&b, r.Level)
	writeField(&b, strconv.FormatBool(r.Review))
	if r.Format >= 2 {
		writeField(&b, r.SubjectTenant)
		writeField(&b, r.BreakGlassReason)
		writeField(&b, list(r.Roles))
		writeField(&b, r.PolicyRevision)
	}
	for _, s := range []string{r.Provider, r.ProviderVersion, r.Outcome, r.ModelID, r.PayloadSHA256, r.PrevHash} {
		writeField(&b, s)
	}
	return []byte(b.String())
}

func writeField(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
	b.WriteByte(',')
}

func list(items []string) string {
	var b strings.Builder
	for _, s := range items {
		writeField(&b, s)
	}
	return b.String()
}

// hashRecord returns the lowercase hex SHA-256 of the record's canonical
// form.
func hashRecord(r *Record) string {
	sum := sha256.Sum256(Canonical(r))
	return hex.EncodeToString(sum[:])
}

// checkpointMessage returns the bytes a checkpoint signature covers:
// "healthhub-audit-checkpoint-v1\n" field(tenant) field(seq) field(hash)
// field(time), with seq and time (Unix microseconds) in decimal.
func checkpointMessage(tenant string, seq int64, hash string, timeMicros int64) []byte {
	var b strings.Builder
	b.WriteString(checkpointTag)
	writeField(&b, tenant)
	writeField(&b, strconv.FormatInt(seq, 10))
	writeField(&b, hash)
	writeField(&b, strconv.FormatInt(timeMicros, 10))
	return []byte(b.String())
}

func itoa(i int) string { return strconv.Itoa(i) }
