package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/healthhub/healthhub/core/internal/sqldb"
	"github.com/healthhub/healthhub/sdk"
)

func (s *sqlStore) Create(ctx context.Context, tenant string, body []byte) (*Resource, error) {
	if err := checkTenant("create", tenant); err != nil {
		return nil, err
	}
	p, err := prepare(body)
	if err != nil {
		return nil, err
	}
	w := &writeOp{entry: -1, kind: opCreate, resourceType: p.scan.resourceType, id: newID(), res: p}
	if err := s.offloadBlobs(ctx, tenant, p); err != nil {
		return nil, err
	}
	if err := s.commit(ctx, tenant, []*writeOp{w}, newReferences()); err != nil {
		return nil, err
	}
	return w.result, nil
}

func (s *sqlStore) Update(ctx context.Context, tenant, resourceType, id string, body []byte, opts WriteOptions) (*Resource, bool, error) {
	op := "update " + describe(resourceType, id)
	if err := checkTarget(op, tenant, resourceType, id); err != nil {
		return nil, false, err
	}
	p, err := prepare(body)
	if err != nil {
		return nil, false, err
	}
	if err := checkBodyIdentity(op, p, resourceType, id); err != nil {
		return nil, false, err
	}
	w := &writeOp{entry: -1, kind: opUpdate, resourceType: resourceType, id: id, ifMatch: opts.IfMatch, res: p}
	if err := s.offloadBlobs(ctx, tenant, p); err != nil {
		return nil, false, err
	}
	if err := s.commit(ctx, tenant, []*writeOp{w}, newReferences()); err != nil {
		return nil, false, err
	}
	return w.result, w.isNew, nil
}

// checkBodyIdentity checks that a body sent to Type/id has that type and,
// when it has an id, that id.
func checkBodyIdentity(op string, p *prepared, resourceType, id string) error {
	if p.scan.resourceType != resourceType {
		return sdk.Invalidf("/resourceType", "%s: body has resourceType %q: send a %s", op, p.scan.resourceType, resourceType)
	}
	if p.scan.id != nil {
		if bodyID := decodeString(p.raw[p.scan.id.start:p.scan.id.end]); bodyID != id {
			return sdk.Invalidf("/id", "%s: body has id %q: make it match the id in the URL", op, bodyID)
		}
	}
	return nil
}

func (s *sqlStore) Delete(ctx context.Context, tenant, resourceType, id string, opts WriteOptions) (*Resource, error) {
	op := "delete " + describe(resourceType, id)
	if err := checkTarget(op, tenant, resourceType, id); err != nil {
		return nil, err
	}
	w := &writeOp{entry: -1, kind: opDelete, resourceType: resourceType, id: id, ifMatch: opts.IfMatch}
	if err := s.commit(ctx, tenant, []*writeOp{w}, newReferences()); err != nil {
		return nil, err
	}
	return w.result, nil
}

// commit resolves the conditional references of ops and writes them in one
// transaction.
func (s *sqlStore) commit(ctx context.Context, tenant string, ops []*writeOp, refs *references) error {
	now := s.stamp()
	err := s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.resolveConditional(ctx, tx, tenant, ops, refs); err != nil {
			return err
		}
		return s.applyWrites(ctx, tx, tenant, ops, now, refs)
	})
	return s.classify(err)
}

// classify turns a lock timeout into a transient outcome, so that callers
// know a retry may succeed. Outcomes pass unchanged.
func (s *sqlStore) classify(err error) error {
	if err == nil || sdk.AsOutcome(err) == err {
		return err
	}
	if sqldb.IsBusy(err) {
		return sdk.NewOutcome(sdk.Issue{Severity: sdk.SeverityError, Code: sdk.CodeTransient,
			Diagnostics: fmt.Sprintf("write: database is busy (%v): retry", err)})
	}
	return err
}
