-- The confidential inputs of advance decisions (the retailer's and the
-- programme's exposure, the funder's cash), kept beside the log: the entry
-- holds only their SHA-256 commitment, so that the supplier, who reads the
-- entry, never sees another party's figures, while the operator and
-- auditors can check every decision against its entry.
CREATE TABLE decision_disclosures (
    seq BIGINT PRIMARY KEY,
    document TEXT NOT NULL
);
