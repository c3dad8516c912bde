DROP TABLE decision_disclosures;
