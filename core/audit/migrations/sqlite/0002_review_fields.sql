-- What a reviewer needs besides the decision: the subject's own tenant,
-- the break-glass justification, the subject's roles (a JSON array) and
-- the revision of the policy set that decided. format is the version of
-- the canonical form an event's hash covers: events written before these
-- columns existed keep version 1.
ALTER TABLE audit_events ADD COLUMN subject_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN break_glass_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN roles TEXT NOT NULL DEFAULT '[]';
ALTER TABLE audit_events ADD COLUMN policy_revision TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
