-- The subject's tenant and the break-glass justification, for reviewers.
-- format is the version of the canonical form an event's hash covers:
-- events written before these columns existed keep version 1.
ALTER TABLE audit_events ADD COLUMN subject_tenant TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN break_glass_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE audit_events ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
