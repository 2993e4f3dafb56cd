-- The permit registry (SQLite). Kept in step with schema_postgres.sql: the same tables, columns
-- and checks; only identity columns and row-level security differ.
CREATE TABLE IF NOT EXISTS registry_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS employer (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The business identification number (BIN), unique.
    bin TEXT NOT NULL UNIQUE,
    region TEXT NOT NULL,
    -- What the rules need to know (kind, headcount, staff, violations, obligations), JSON.
    facts TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS app_user (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'officer', 'employer', 'analyst')),
    region TEXT,
    employer_id BIGINT REFERENCES employer (id),
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    CHECK ((role = 'officer') = (region IS NOT NULL)),
    CHECK ((role = 'employer') = (employer_id IS NOT NULL))
);

-- Browser sessions and API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE IF NOT EXISTS credential (
    id INTEGER PRIMARY KEY,
    secret_hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('session', 'token')),
    user_id BIGINT NOT NULL REFERENCES app_user (id),
    label TEXT NOT NULL,
    -- For a session: the SHA-256 of its CSRF token.
    csrf_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE IF NOT EXISTS quota_cell (
    year BIGINT NOT NULL,
    line TEXT NOT NULL,
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    allocated BIGINT NOT NULL CHECK (allocated >= 0),
    used BIGINT NOT NULL DEFAULT 0 CHECK (used >= 0),
    -- The last wall against over-allocation: no statement can leave a cell over-used.
    CHECK (used <= allocated),
    PRIMARY KEY (year, line, region, category)
);

CREATE TABLE IF NOT EXISTS application (
    id INTEGER PRIMARY KEY,
    employer_id BIGINT NOT NULL REFERENCES employer (id),
    kind TEXT NOT NULL,
    -- The region whose officers decide it (the first of the permit's regions).
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    nationality TEXT NOT NULL,
    workers BIGINT NOT NULL CHECK (workers > 0),
    -- The permit an extension is asked for.
    permit_id BIGINT,
    request TEXT NOT NULL,
    -- Personal data of the worker(s): reading them is audited.
    worker TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'granted', 'refused', 'exempt', 'withdrawn')),
    submitted_at BIGINT NOT NULL,
    submitted_by BIGINT NOT NULL,
    decided_at BIGINT,
    decided_by BIGINT,
    decision TEXT,
    grounds TEXT
);
CREATE INDEX IF NOT EXISTS application_by_employer ON application (employer_id, id);
CREATE INDEX IF NOT EXISTS application_by_region ON application (region, status, id);

CREATE TABLE IF NOT EXISTS permit (
    id INTEGER PRIMARY KEY,
    application_id BIGINT NOT NULL UNIQUE REFERENCES application (id),
    employer_id BIGINT NOT NULL REFERENCES employer (id),
    region TEXT NOT NULL,
    category TEXT NOT NULL,
    nationality TEXT NOT NULL,
    workers BIGINT NOT NULL,
    quota_year BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    extensions BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL CHECK (status IN ('active', 'revoked', 'expired')),
    -- The quota cells the permit consumed, JSON, so that a revocation can release them.
    consumes TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    closed_at BIGINT,
    closed_reason TEXT
);
CREATE INDEX IF NOT EXISTS permit_by_employer ON permit (employer_id, id);
CREATE INDEX IF NOT EXISTS permit_by_region ON permit (region, status, id);
CREATE INDEX IF NOT EXISTS permit_by_expiry ON permit (status, valid_until);

-- Append-only and hash-chained: each entry's hash covers the previous entry's hash.
CREATE TABLE IF NOT EXISTS audit (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor_id BIGINT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
-- The chain's head, one row; writers take it last, so appends are serialised.
CREATE TABLE IF NOT EXISTS audit_head (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
SELECT 1, 0, '0000000000000000000000000000000000000000000000000000000000000000'
WHERE NOT EXISTS (SELECT 1 FROM audit_head);

-- The head follows every append, in the appending statement itself (one statement fewer while
-- the head is held).
CREATE TRIGGER IF NOT EXISTS audit_head_follows AFTER INSERT ON audit
BEGIN UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1; END;
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
