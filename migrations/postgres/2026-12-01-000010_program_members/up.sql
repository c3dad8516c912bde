-- The suppliers enrolled in a programme: only members register invoices in
-- it and are financed by it. Kept from `program.supplier_enrolled` entries;
-- suppliers trading before this table existed are enrolled by an operator.
CREATE TABLE program_members (
    program_id TEXT NOT NULL,
    supplier_id TEXT NOT NULL,
    enrolled_seq BIGINT NOT NULL,
    PRIMARY KEY (program_id, supplier_id)
);
CREATE INDEX program_members_by_supplier ON program_members (supplier_id);
