DROP TABLE entry_parties;
DROP TABLE supplier_debts;
DROP TABLE payouts;
DROP TABLE advances;
DROP TABLE invoices;
DROP TABLE programs;
DROP TABLE parties;
